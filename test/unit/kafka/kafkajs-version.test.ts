import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { supportedKafkajs } from '../../../src/kafka/kafkajs-version.ts';

describe('the kafkajs that is installed', () => {
  it('is the version kelt’s fixes are written for, and the one package.json pins', () => {
    const require = createRequire(import.meta.url);
    expect((require('kafkajs/package.json') as { version: string }).version).toBe(supportedKafkajs);
    expect((require('../../../package.json') as { dependencies: Record<string, string> }).dependencies.kafkajs).toBe(supportedKafkajs);
  });
});
