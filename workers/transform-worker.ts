import { pathToFileURL } from 'node:url';
import { PermanentError } from '../src/errors.ts';
import { unframe } from '../src/registry/wire-format.ts';
import type { TransformOutcome, TransformTask } from '../src/threads/transform-task.ts';
import type { RemoveFunction, Row, TransformFunction, TransformOutput } from '../src/transform/contract.ts';
import { typeOf } from '../src/threads/avro-types.ts';
import { unpackBytes } from '../src/threads/packed-bytes.ts';

/**
 * Transform's worker: decodes each loaded record and runs the pipeline's
 * transform module on it. A record whose transform throws fails alone.
 */
interface TransformModule {
  transform: TransformFunction;
  remove: RemoveFunction | undefined;
}

const modules = new Map<string, Promise<TransformModule>>();

function moduleAt(path: string): Promise<TransformModule> {
  let loaded = modules.get(path);
  if (loaded === undefined) {
    loaded = import(pathToFileURL(path).href).then((module: { default?: unknown; remove?: unknown }) => {
      if (typeof module.default !== 'function') throw new Error(`${path} has no default export function`);
      if (module.remove !== undefined && typeof module.remove !== 'function') throw new Error(`${path} exports remove, but not as a function`);
      return { transform: module.default as TransformFunction, remove: module.remove as RemoveFunction | undefined };
    });
    modules.set(path, loaded);
    // A module that failed to load is not remembered as failed: the stage
    // reports it at start (see startStage), and a later task tries afresh.
    loaded.catch(() => modules.delete(path));
  }
  return loaded;
}

export default async function transform(task: TransformTask): Promise<TransformOutcome[]> {
  const module = await moduleAt(task.modulePath);
  const outcomes: TransformOutcome[] = [];
  let i = 0;
  for (const bytes of unpackBytes(task.values)) {
    Atomics.store(task.progress, 0, i);
    const deletion = task.deletes[i++];
    const outcome = transformOne(module, task, bytes, deletion);
    outcomes.push(outcome instanceof Promise ? await outcome : outcome);
  }
  return outcomes;
}

function transformOne(
  module: TransformModule,
  task: TransformTask,
  bytes: Buffer | null,
  deletion: { key: string | null } | undefined,
): TransformOutcome | Promise<TransformOutcome> {
  let record: Record<string, unknown>;
  try {
    if (bytes === null) {
      if (deletion?.key === undefined || deletion.key === null) throw new PermanentError('the record has no value', { reason: 'undecodable' });
      record = { [task.keyField]: deletion.key };
    } else {
      const { schemaId, payload } = unframe(bytes);
      const writer = task.writerSchemas[schemaId];
      if (writer === undefined) throw new PermanentError(`unknown schema id ${schemaId}`, { reason: 'unknown_schema' });
      record = typeOf(writer).fromBuffer(payload) as Record<string, unknown>;
    }
  } catch (error) {
    return { ok: false, reason: error instanceof PermanentError ? (error.reason ?? 'undecodable') : 'undecodable', error: (error as Error).message };
  }
  const fn = deletion === undefined ? module.transform : module.remove;
  if (fn === undefined) return { ok: true, rows: {}, deletes: {} };
  const outcomeOf = (output: TransformOutput) =>
    deletion === undefined ? { ok: true as const, rows: tables(output), deletes: {} } : { ok: true as const, rows: {}, deletes: tables(output) };
  try {
    const output = fn(record);
    // An async transform is awaited like a plain one (and only then: a microtask per record costs).
    return output instanceof Promise ? output.then(outcomeOf, transformError) : outcomeOf(output);
  } catch (error) {
    return transformError(error);
  }
}

function tables(output: TransformOutput): Record<string, Row[]> {
  const rows: Record<string, Row[]> = {};
  for (const [table, produced] of Object.entries(output)) {
    rows[table] = produced === null ? [] : Array.isArray(produced) ? produced : [produced];
  }
  return rows;
}

function transformError(error: unknown): TransformOutcome {
  return { ok: false, reason: 'transform_error', error: error instanceof Error ? error.message : String(error) };
}
