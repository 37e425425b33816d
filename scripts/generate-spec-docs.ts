// Writes the pipeline spec's JSON Schema and reference from the zod schema (npm run docs).
import { writeFileSync } from 'node:fs';
import { specJsonSchema, specReferenceMarkdown } from '../src/pipeline/spec-reference.ts';
import { projectFile } from '../src/runtime/project-files.ts';

writeFileSync(projectFile('schemas/pipeline.schema.json'), `${JSON.stringify(specJsonSchema(), null, 2)}\n`);
writeFileSync(projectFile('docs/pipeline-spec.md'), specReferenceMarkdown());
console.log('wrote schemas/pipeline.schema.json and docs/pipeline-spec.md');
