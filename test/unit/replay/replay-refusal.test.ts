import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../../src/pipeline/spec.ts';
import { replayRefusal } from '../../../src/replay/transform-replay.ts';

const pageviews = loadPipeline(new URL('../../../schemas/pageviews.pipeline.yaml', import.meta.url).pathname);

describe('replay refusal', () => {
  it('replays windowed aggregates from the beginning or a timestamp, not from offsets', () => {
    expect(replayRefusal(pageviews, { kind: 'beginning' })).toBeUndefined();
    expect(replayRefusal(pageviews, { kind: 'timestamp', ms: 0 })).toBeUndefined();
    expect(replayRefusal(pageviews, { kind: 'offsets', offsets: new Map([[0, 5n]]) })).toMatch(/cannot tell which windows of agg_pageviews_hourly/);
  });

  it('rebuilds an aggregate without a window only from the beginning', () => {
    const [hourly] = pageviews.transform.aggregates;
    const unwindowed = { ...pageviews, transform: { ...pageviews.transform, aggregates: [{ ...hourly!, name: 'agg_total', window: undefined }] } };
    expect(replayRefusal(unwindowed, { kind: 'timestamp', ms: 0 })).toBe(
      'agg_total has no window, so only a replay from the beginning can rebuild it',
    );
    expect(replayRefusal(unwindowed, { kind: 'beginning' })).toBeUndefined();
  });

  it('replays a pipeline without aggregates from offsets', () => {
    const plain = { ...pageviews, transform: { ...pageviews.transform, aggregates: [] } };
    expect(replayRefusal(plain, { kind: 'offsets', offsets: new Map([[0, 5n]]) })).toBeUndefined();
  });
});
