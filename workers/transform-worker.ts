import { pathToFileURL } from 'node:url';
import { PermanentError } from '../src/errors.ts';
import { unframe } from '../src/registry/wire-format.ts';
import type { TransformOutcome, TransformTask } from '../src/stages/transform/transform-task.ts';
import type { Row, TransformFunction, TransformOutput } from '../src/transform/contract.ts';
import { typeOf } from '../src/workers/avro-types.ts';
import { unpackBytes } from '../src/workers/packed-bytes.ts';

/**
 * Transform's worker: decodes each loaded record and runs the pipeline's
 * transform module on it. A record whose transform throws fails alone.
 */
const modules = new Map<string, Promise<TransformFunction>>();

function transformAt(path: string): Promise<TransformFunction> {
  let loaded = modules.get(path);
  if (loaded === undefined) {
    loaded = import(pathToFileURL(path).href).then((module: { default?: unknown }) => {
      if (typeof module.default !== 'function') throw new Error(`${path} has no default export function`);
      return module.default as TransformFunction;
    });
    modules.set(path, loaded);
    // A module that failed to load is not remembered as failed: the stage
    // reports it at start (see startStage), and a later task tries afresh.
    loaded.catch(() => modules.delete(path));
  }
  return loaded;
}

export default async function transform(task: TransformTask): Promise<TransformOutcome[]> {
  const fn = await transformAt(task.modulePath);
  const outcomes: TransformOutcome[] = [];
  for (const bytes of unpackBytes(task.values)) {
    const outcome = transformOne(fn, task, bytes);
    outcomes.push(outcome instanceof Promise ? await outcome : outcome);
  }
  return outcomes;
}

function transformOne(fn: TransformFunction, task: TransformTask, bytes: Buffer | null): TransformOutcome | Promise<TransformOutcome> {
  let record: Record<string, unknown>;
  try {
    if (bytes === null) throw new PermanentError('the record has no value', { reason: 'undecodable' });
    const { schemaId, payload } = unframe(bytes);
    const writer = task.writerSchemas[schemaId];
    if (writer === undefined) throw new PermanentError(`unknown schema id ${schemaId}`, { reason: 'unknown_schema' });
    record = typeOf(writer).fromBuffer(payload) as Record<string, unknown>;
  } catch (error) {
    return { ok: false, reason: error instanceof PermanentError ? (error.reason ?? 'undecodable') : 'undecodable', error: (error as Error).message };
  }
  try {
    const output = fn(record);
    // An async transform is awaited like a plain one (and only then: a microtask per record costs).
    return output instanceof Promise ? output.then(rowsOf, transformError) : rowsOf(output);
  } catch (error) {
    return transformError(error);
  }
}

function rowsOf(output: TransformOutput): TransformOutcome {
  const rows: Record<string, Row[]> = {};
  for (const [table, produced] of Object.entries(output)) {
    rows[table] = produced === null ? [] : Array.isArray(produced) ? produced : [produced];
  }
  return { ok: true, rows };
}

function transformError(error: unknown): TransformOutcome {
  return { ok: false, reason: 'transform_error', error: error instanceof Error ? error.message : String(error) };
}
