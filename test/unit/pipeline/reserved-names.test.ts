import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keltTables } from '../../../src/pipeline/reserved-names.ts';

const mysqlDir = fileURLToPath(new URL('../../../src/mysql/', import.meta.url));

describe("kelt's own table names", () => {
  it('are every table src/mysql creates, so that no pipeline table can take one', () => {
    const created = readdirSync(mysqlDir)
      .flatMap((file) => [...readFileSync(`${mysqlDir}${file}`, 'utf8').matchAll(/CREATE TABLE IF NOT EXISTS (kelt_\w+)/g)].map((match) => match[1]!))
      .sort();
    expect(created.length).toBeGreaterThan(0);
    expect([...keltTables].sort()).toEqual(created);
  });
});
