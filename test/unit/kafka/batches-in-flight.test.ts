import { describe, expect, it } from 'vitest';
import { BatchesInFlight } from '../../../src/kafka/batches-in-flight.ts';

/** A piece of work the test ends when it chooses. */
function held(name: string, log: string[]) {
  let end!: () => void;
  let fail!: (error: Error) => void;
  const ended = new Promise<void>((resolve, reject) => ((end = resolve), (fail = reject)));
  const work = async (): Promise<void> => {
    log.push(`start ${name}`);
    await ended;
    log.push(`end ${name}`);
  };
  return { work, end, fail };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 1));

function inFlight(maxBytes: number) {
  const log: string[] = [];
  const failures: unknown[] = [];
  const batches = new BatchesInFlight({
    maxBytes,
    pause: () => log.push('pause'),
    resume: () => log.push('resume'),
    failed: (error) => failures.push(error),
  });
  return { batches, log, failures };
}

describe('BatchesInFlight', () => {
  it('starts each batch’s work as it is taken in, before add returns', async () => {
    const { batches, log } = inFlight(1_000);
    const [a, b] = ['a', 'b'].map((name) => held(name, log));
    batches.add(1, a!.work);
    batches.add(1, b!.work);
    expect(log).toEqual(['start a', 'start b']);
    b!.end();
    a!.end();
    await batches.drain();
    expect(log).toEqual(['start a', 'start b', 'end b', 'end a']);
    expect(batches.bytes).toBe(0);
  });

  it('pauses fetching past maxBytes held and resumes once the bytes held fall to half of it', async () => {
    const { batches, log } = inFlight(100);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => held(name, log));
    batches.add(60, a!.work);
    batches.add(30, b!.work);
    expect(log).toEqual(['start a', 'start b']);
    batches.add(20, c!.work);
    expect(log).toEqual(['start a', 'start b', 'pause', 'start c']);
    a!.end();
    await settle();
    // 50 bytes held: half of the bound, fetching goes on.
    expect(log).toEqual(['start a', 'start b', 'pause', 'start c', 'end a', 'resume']);
    b!.end();
    c!.end();
    await batches.drain();
    expect(log.filter((entry) => entry === 'pause' || entry === 'resume')).toEqual(['pause', 'resume']);
  });

  it('reports a batch whose work failed, and goes on with the others', async () => {
    const { batches, log, failures } = inFlight(1_000);
    const [a, b] = ['a', 'b'].map((name) => held(name, log));
    batches.add(1, a!.work);
    batches.add(1, b!.work);
    a!.fail(new Error('the processor gave up'));
    b!.end();
    await batches.drain();
    expect((failures as Error[]).map((error) => error.message)).toEqual(['the processor gave up']);
    expect(log).toEqual(['start a', 'start b', 'end b']);
  });
});
