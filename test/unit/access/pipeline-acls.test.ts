import { describe, expect, it } from 'vitest';
import type { AccessRule } from '../../../src/kafka/access-rule.ts';
import { formatAcls, pipelineAcls } from '../../../src/access/pipeline-acls.ts';

const pipeline = { name: 'shop', topics: { raw: 'shop.orders', extracted: 'shop.extracted', loaded: 'shop.loaded', dlq: 'shop.dlq' } };
const principal = (role: string) => `User:kelt-${role}`;
const grants = (rules: AccessRule[]) =>
  rules.map((rule) => `${rule.operation} ${rule.resource}:${rule.pattern === 'prefixed' ? `${rule.name}*` : rule.name}`);

describe('pipeline ACLs', () => {
  it('lets each stage read its input and group, write its output, dead letters and transactions, and describe the topics', () => {
    expect(grants(pipelineAcls(pipeline, 'extract', principal))).toEqual([
      'read topic:shop.orders',
      'read group:kelt.shop.extract',
      'write topic:shop.extracted',
      'write topic:shop.dlq',
      'write transactional-id:kelt.shop.extract.*',
      ...['shop.orders', 'shop.extracted', 'shop.loaded', 'shop.dlq'].map((topic) => `describe topic:${topic}`),
      ...['shop.orders', 'shop.extracted', 'shop.loaded', 'shop.dlq'].map((topic) => `describe-configs topic:${topic}`),
    ]);
    const transform = grants(pipelineAcls(pipeline, 'transform', principal));
    expect(transform.slice(0, 4)).toEqual([
      'read topic:shop.loaded',
      'read group:kelt.shop.transform',
      'write topic:shop.dlq',
      'write transactional-id:kelt.shop.transform.*',
    ]);
    expect(transform.filter((grant) => grant.startsWith('write'))).toHaveLength(2);
    expect(pipelineAcls(pipeline, 'load', principal).every((rule) => rule.principal === 'User:kelt-load')).toBe(true);
  });

  it('lets migrate create the topics, produce write only the raw topic and collect also read its configs; nobody gets more than its role', () => {
    expect(grants(pipelineAcls(pipeline, 'migrate', principal))).toEqual([
      ...['shop.orders', 'shop.extracted', 'shop.loaded', 'shop.dlq'].map((topic) => `create topic:${topic}`),
      ...['shop.orders', 'shop.extracted', 'shop.loaded', 'shop.dlq'].map((topic) => `describe topic:${topic}`),
    ]);
    expect(grants(pipelineAcls(pipeline, 'produce', principal))).toEqual(['write topic:shop.orders']);
    expect(grants(pipelineAcls(pipeline, 'collect', principal))).toEqual(['write topic:shop.orders', 'describe-configs topic:shop.orders']);
    for (const role of ['extract', 'load', 'transform', 'migrate', 'produce', 'collect'] as const) {
      const rules = pipelineAcls(pipeline, role, principal);
      expect(
        rules.some((rule) => rule.resource === 'cluster'),
        role,
      ).toBe(false);
      expect(
        rules.some((rule) => rule.operation === 'write' && rule.name === pipeline.topics.raw && role !== 'produce' && role !== 'collect'),
        role,
      ).toBe(false);
    }
  });

  it('prints one kafka-acls line per rule, with the reason', () => {
    const [line] = formatAcls(pipelineAcls(pipeline, 'load', principal)).split('\n');
    expect(line).toMatch(/^ALLOW User:kelt-load +READ +TOPIC LITERAL shop\.extracted +# consumes its input$/);
    expect(formatAcls(pipelineAcls(pipeline, 'load', principal))).toContain('WRITE            TRANSACTIONAL_ID PREFIXED kelt.shop.load.');
  });
});
