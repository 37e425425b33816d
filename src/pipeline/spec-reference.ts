import { z } from 'zod';
import { specSchema } from './spec.ts';

/** A JSON Schema node, as far as the reference reads it. */
interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  anyOf?: SchemaNode[];
}

/** The spec file's JSON Schema (as written, so fields with defaults are optional), for editors. */
export function specJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(specSchema, { io: 'input' }) as Record<string, unknown>),
    $id: 'https://kelt.dev/schemas/pipeline.schema.json',
    title: 'kelt pipeline spec',
  };
}

/** docs/pipeline-spec.md: every field with its type, whether required, its default and its description. */
export function specReferenceMarkdown(): string {
  const rows: string[] = [];
  const walk = (node: SchemaNode, path: string, required: boolean) => {
    if (path !== '') {
      const fallback = node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``;
      rows.push(
        `| \`${path}\` | ${typeOf(node)} | ${required ? 'yes' : ''} | ${fallback} | ${(node.description ?? '').replace(/\|/g, '\\|').replace(/</g, '&lt;')} |`,
      );
    }
    for (const [name, child] of Object.entries(node.properties ?? {}))
      walk(child, path === '' ? name : `${path}.${name}`, (node.required ?? []).includes(name));
    if (node.items?.properties !== undefined) {
      for (const [name, child] of Object.entries(node.items.properties)) walk(child, `${path}[].${name}`, (node.items.required ?? []).includes(name));
    }
  };
  walk(specJsonSchema() as SchemaNode, '', true);
  return [
    '# Pipeline spec reference',
    '',
    '<!-- Generated from the zod schema in src/pipeline/spec.ts by `npm run docs`; do not edit. -->',
    '',
    'A pipeline spec is a YAML file (`schemas/pageviews.pipeline.yaml` is the example). Editors that read',
    '[`schemas/pipeline.schema.json`](../schemas/pipeline.schema.json) complete and check it: the example',
    'names it in a `yaml-language-server` comment. Paths are relative to the spec file.',
    '',
    '| field | type | required | default | description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function typeOf(node: SchemaNode): string {
  if (node.enum !== undefined) return node.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (node.anyOf !== undefined) return node.anyOf.map(typeOf).join(' \\| ');
  const type = Array.isArray(node.type) ? node.type.join(' \\| ') : (node.type ?? 'any');
  const bounds = [
    node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined ? `≥ ${node.minimum}` : undefined,
    node.maximum !== undefined ? `≤ ${node.maximum}` : undefined,
  ].filter((bound) => bound !== undefined);
  if (type === 'array') return `list of ${node.items === undefined ? 'any' : node.items.properties !== undefined ? 'objects' : typeOf(node.items)}`;
  if (type === 'object' && node.properties === undefined && typeof node.additionalProperties === 'object')
    return `map of ${typeOf(node.additionalProperties)}`;
  return bounds.length === 0 ? type : `${type} (${bounds.join(', ')})`;
}
