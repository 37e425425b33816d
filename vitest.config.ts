import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // vitest's own JSON report is what .ci/run counts from.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // The CLI tests start `kelt` as a process: beside the deploy
          // project's helm and promtool runs, on two cores, that can take
          // seconds. Not a speed assertion, so the bound is generous.
          testTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // After unit and deploy, before faults: the fault tests stop parts of
          // the stack these tests share, so the two never overlap.
          sequence: { groupOrder: 1 },
          globalSetup: ['test/integration/global-setup.ts'],
          // Test files import kafkajs themselves; kelt's fix of it must load first.
          setupFiles: ['src/kafka/kafkajs-fixes.ts'],
          // Files share one broker, registry and database server; run them one
          // at a time so that timing-sensitive tests (rebalances) are not starved
          // of the machine's two cores.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          // The alert rules (promtool), the Helm chart (helm lint/template) and
          // the container files, checked with the real tools; nothing runs.
          name: 'deploy',
          include: ['test/deploy/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          globalSetup: ['test/deploy/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          // Real stage processes under load, with brokers, the database or the
          // registry stopped: they need the local stack (scripts/stack), whose
          // parts they stop and start.
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          globalSetup: ['test/integration/global-setup.ts'],
          setupFiles: ['src/kafka/kafkajs-fixes.ts'],
          fileParallelism: false,
          testTimeout: 420_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          // The image built (docker/Dockerfile) and its stages run against the
          // local stack; the chart installed on a real kube-apiserver. Last:
          // its setup builds the Docker engine's base image and the API server
          // (minutes when the cache is cold), and its stages use the stack.
          name: 'deployment',
          include: ['test/deployment/**/*.test.ts'],
          sequence: { groupOrder: 3 },
          globalSetup: ['test/deployment/global-setup.ts'],
          setupFiles: ['src/kafka/kafkajs-fixes.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
