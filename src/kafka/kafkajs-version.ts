import { createRequire } from 'node:module';

/**
 * The kafkajs version kelt's fixes are written for (see the ledger in
 * kafkajs-fixes.ts). Loading any other fails at once, so that an upgrade
 * re-reads the ledger instead of silently patching code that moved.
 */
export const supportedKafkajs = '2.2.4';

const installed = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
if (installed !== supportedKafkajs) {
  throw new Error(
    `kelt's fixes are written for kafkajs ${supportedKafkajs}, and kafkajs ${installed} is installed: re-check each entry of src/kafka/kafkajs-fixes.ts before changing the pinned version`,
  );
}
