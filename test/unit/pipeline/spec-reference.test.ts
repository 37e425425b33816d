import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { specJsonSchema, specReferenceMarkdown } from '../../../src/pipeline/spec-reference.ts';
import { projectFile } from '../../../src/runtime/project-files.ts';

/** The spec's reference and JSON Schema are generated from its zod schema; this fails when they drift (run `npm run docs`). */
describe('the pipeline spec reference', () => {
  it('is what npm run docs generates from the zod schema', () => {
    expect(readFileSync(projectFile('schemas/pipeline.schema.json'), 'utf8')).toBe(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
    expect(readFileSync(projectFile('docs/pipeline-spec.md'), 'utf8')).toBe(specReferenceMarkdown());
  });

  it('describes every field, and the example spec names the schema for editors', () => {
    const undescribed = specReferenceMarkdown()
      .split('\n')
      .filter((line) => line.startsWith('| `') && line.endsWith('|  |'));
    expect(undescribed).toEqual([]);
    const example = readFileSync(projectFile('schemas/pageviews.pipeline.yaml'), 'utf8');
    expect(example.split('\n')[0]).toBe('# yaml-language-server: $schema=./pipeline.schema.json');
    expect(parseYaml(example)).toHaveProperty('name', 'pageviews');
  });
});
