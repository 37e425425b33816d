/**
 * Known breaches of .dependency-cruiser.cjs's rules, each to be moved behind
 * kelt's own Kafka interfaces (issue 22: an admin interface for migrate,
 * status, replay, lag and the DLQ commands; a client type for connections).
 * The check fails on any breach not listed here, so the list only shrinks.
 */
module.exports = {
  kafkajsOutsideAdapter: [
    '^src/runtime/connections\\.ts$',
    '^src/metrics/lag-monitor\\.ts$',
    '^src/produce/produce\\.ts$',
    '^src/migrate/migrate\\.ts$',
    '^src/replay/transform-replay\\.ts$',
    '^src/status/pipeline-status\\.ts$',
    '^src/status/lag\\.ts$',
    '^src/dead-letters/dlq-reader\\.ts$',
  ],
  upwardImports: [],
};
