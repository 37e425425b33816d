import { openClusterAdmin } from '../kafka/cluster-admin.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pipeline } from '../pipeline/spec.ts';
import type { Connections } from '../runtime/connections.ts';
import { startStage } from '../stages/start-stage.ts';
import { groupLag } from '../status/lag.ts';
import { modelTables } from '../mysql/pipeline-tables.ts';
import { groupIdOf } from '../pipeline/topology.ts';
import { AggregateViews } from '../stages/transform/aggregate-views.ts';
import { applyReplay, planReplay, refuseWhileMembers, type ReplayFrom, type ReplayPlan } from './transform-replay.ts';

/**
 * `kelt replay`: rebuilds every aggregate from the model table it is
 * declared from, resets the transform for a replay (unless `from` is
 * undefined: the aggregates only) and, unless told only to reset, runs the
 * transform as the group's one member until it has passed where the loaded
 * topic ended when the replay began, reporting progress; then it stops, and
 * the transform Deployment takes over from there.
 */
export async function replayTransform(
  pipeline: Pipeline,
  connections: Connections,
  from: ReplayFrom | undefined,
  { run, say }: { run: boolean; say: (line: string) => void },
): Promise<void> {
  const admin = await openClusterAdmin(connections.kafka);
  const mysql = connections.mysql(2);
  try {
    const groupId = groupIdOf(pipeline, 'transform');
    await refuseWhileMembers(admin, groupId);
    const views = new AggregateViews({
      aggregates: pipeline.transform.aggregates,
      modelTables: modelTables(pipeline),
      groupId,
      partitions: pipeline.partitions,
    });
    await views.rebuild(mysql, pipeline.batch.insertRows, say);
    if (from === undefined) return;
    const plan = await planReplay(pipeline, admin, from);
    say(describePlan(plan));
    await applyReplay(plan, admin, mysql);
    say(`reset ${plan.groupId} on ${plan.topic}`);
    if (!run) return;
    const total = [...plan.end].reduce((sum, [partition, end]) => sum + Number(end - (plan.start.get(partition) ?? end)), 0);
    const transform = await startStage('transform', pipeline, connections);
    try {
      const started = performance.now();
      for (;;) {
        const failed = await Promise.race([transform.runner.failed(), sleep(2_000).then(() => undefined)]);
        if (failed !== undefined) throw failed;
        const lag = await groupLag(admin, plan.groupId, plan.topic);
        const done = lag.partitions.reduce(
          (sum, p) => sum + Math.max(0, Math.min(p.committed, Number(plan.end.get(p.partition) ?? 0n)) - Number(plan.start.get(p.partition) ?? 0n)),
          0,
        );
        const seconds = (performance.now() - started) / 1000;
        // Offsets, not records: each transaction leaves a commit marker in the topic.
        say(`replayed ${done.toLocaleString('en')} of ${total.toLocaleString('en')} offsets (${Math.round(done / seconds).toLocaleString('en')}/s)`);
        const finished = (p: { partition: number; committed: number }) => {
          const end = plan.end.get(p.partition) ?? 0n;
          return end <= (plan.start.get(p.partition) ?? 0n) || p.committed >= Number(end);
        };
        if (lag.partitions.every(finished)) break;
      }
    } finally {
      await transform.stop();
    }
    say('replay done: start the transform (its Deployment, or kelt transform) to go on from here');
  } finally {
    await mysql.end();
    await admin.close();
  }
}

function describePlan(plan: ReplayPlan): string {
  return `replaying ${plan.topic} for ${plan.groupId} from offsets ${[...plan.start].map(([p, o]) => `${p}:${o}`).join(' ')}`;
}
