import { fileURLToPath } from 'node:url';
import type { Endpoints } from '../../src/config/endpoints.ts';
import type { StageName } from '../../src/pipeline/topology.ts';
import { StageProcess } from '../../scripts/stage-process.ts';

export { StageProcess, type Exit } from '../../scripts/stage-process.ts';

const logDir = fileURLToPath(new URL('../../test-results/stage-logs/', import.meta.url));

/** A stage process of a test: its log kept under test-results/stage-logs/<name>.log, lag refreshed every 2 s. */
export function startTestStage(stage: StageName, specPath: string, endpoints: Endpoints, name: string): StageProcess {
  return new StageProcess(stage, specPath, endpoints, {
    logFile: `${logDir}${name}.log`,
    env: { KELT_LAG_INTERVAL_SECONDS: '2', KELT_PARTITION_CHECK_SECONDS: '2' },
  });
}

/** Stops (SIGTERM, then SIGKILL past 25 s) the stage processes a test started that still run, and forgets them: a test's afterEach, whatever the outcome. */
export async function stopStageProcesses(processes: StageProcess[]): Promise<void> {
  await Promise.all(
    processes
      .splice(0)
      .filter((member) => member.running)
      .map((member) => member.stopWithin(25_000)),
  );
}
