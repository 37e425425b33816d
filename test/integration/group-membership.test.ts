import { AssignerProtocol } from '../support/kafka.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/kafka/partitioner.ts';
import { produceEvents } from '../../src/produce/produce.ts';
import { generatedEvents } from '../../src/produce/event-source.ts';
import { groupIdOf } from '../../src/pipeline/topology.ts';
import { countRows, createTestPipeline, waitFor, type TestPipeline } from '../support/pipeline.ts';

/**
 * Three members of the load stage's group over a 12-partition topic: each
 * partition has exactly one owner, every record is processed once, and each
 * member sees only the keys of its own partitions.
 */
const EVENTS = 6_000;

describe('consumer-group membership', () => {
  let t: TestPipeline;

  beforeAll(async () => {
    t = await createTestPipeline({ partitions: 12 });
  });
  afterAll(async () => t?.cleanup());

  it('splits 12 partitions between 3 members, each record processed once by its partition owner', async () => {
    const members = await Promise.all([t.start('load'), t.start('load'), t.start('load')]);
    const groupId = groupIdOf(t.pipeline, 'load');
    const admin = t.connections.kafka.admin();
    await admin.connect();
    const assignments = new Map<string, number[]>();
    await waitFor('a stable group of 3 members owning 12 partitions', async () => {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0]!;
      assignments.clear();
      for (const member of group.members) {
        const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        assignments.set(member.memberId, decoded?.assignment[t.pipeline.topics.extracted] ?? []);
      }
      const owned = [...assignments.values()].flat();
      return group.state === 'Stable' && group.members.length === 3 && owned.length === 12;
    });
    await admin.disconnect();

    const owned = [...assignments.values()].flat().sort((a, b) => a - b);
    expect(owned).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect([...assignments.values()].every((partitions) => partitions.length === 4)).toBe(true);

    const seen = members.map(() => ({ partitions: new Set<number>(), keys: new Set<string>(), records: 0 }));
    const processed = new Set<string>();
    let duplicates = 0;
    members.forEach((member, i) => {
      member.runner.events.on('batch', (batch) => {
        seen[i]!.partitions.add(batch.partition);
        seen[i]!.records += batch.messages.length;
        for (const { key, offset } of batch.messages) {
          seen[i]!.keys.add(key?.toString() ?? '');
          const id = `${batch.partition}:${offset}`;
          if (processed.has(id)) duplicates++;
          processed.add(id);
        }
      });
    });

    await t.start('extract');
    await produceEvents(t.pipeline, generatedEvents(t.pipeline.source.generatorPath!, EVENTS), t.connections);
    await waitFor('every event staged', async () => (await countRows(t.db, 'stg_pageviews')) >= EVENTS);
    await waitFor('every batch reported', async () => processed.size >= EVENTS);

    expect(await countRows(t.db, 'stg_pageviews')).toBe(EVENTS);
    expect(processed.size).toBe(EVENTS);
    expect(duplicates).toBe(0);
    expect(seen.reduce((sum, member) => sum + member.records, 0)).toBe(EVENTS);

    const memberPartitions = [...assignments.values()].map((partitions) => new Set(partitions));
    for (const member of seen) {
      expect(member.records).toBeGreaterThan(0);
      // The member's partitions are exactly one member's assignment…
      const assignment = memberPartitions.find((partitions) => [...member.partitions].every((p) => partitions.has(p)));
      expect(assignment).toBeDefined();
      // …and every key it saw hashes to one of them.
      for (const key of member.keys) {
        expect(assignment!.has(partitionForKey(Buffer.from(key), 12))).toBe(true);
      }
    }
  });
});
