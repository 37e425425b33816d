import { Option, type Command } from 'commander';
import { accessRoles, formatAcls, pipelineAcls, type AccessRole } from '../../access/pipeline-acls.ts';
import { openClusterAdmin } from '../../kafka/cluster-admin.ts';
import { loadPipeline } from '../../pipeline/spec.ts';
import { connect } from '../../runtime/connections.ts';
import { pipelineOption } from '../options.ts';

/** `kelt acls`: the Kafka ACLs each role needs, printed or granted. */
export function aclsCommand(program: Command): void {
  program
    .command('acls')
    .description('the Kafka ACLs each role of the pipeline needs (each stage, migrate, produce); --apply grants them')
    .addOption(pipelineOption())
    .option('--principal-prefix <prefix>', 'a role runs as <prefix><role> (User:kelt-extract…)', 'User:kelt-')
    .addOption(new Option('--role <role>', 'only this role').choices(accessRoles))
    .option('--apply', 'grant them on the cluster (as the environment’s Kafka user, which needs ALTER on the cluster)')
    .option('--json', 'print them as JSON')
    .action(async (options: { pipeline: string; principalPrefix: string; role?: AccessRole; apply?: boolean; json?: boolean }) => {
      const pipeline = loadPipeline(options.pipeline);
      const roles = options.role === undefined ? accessRoles : [options.role];
      const rules = roles.flatMap((role) => pipelineAcls(pipeline, role, (of) => `${options.principalPrefix}${of}`));
      console.log(options.json ? JSON.stringify(rules, null, 2) : formatAcls(rules));
      if (options.apply !== true) return;
      const { kafka } = connect('acls', { pipeline: pipeline.name }, { mysql: false });
      const admin = await openClusterAdmin(kafka);
      try {
        await admin.createAcls(rules);
        console.error(`granted ${rules.length} ACLs`);
      } finally {
        await admin.close();
      }
    });
}
