import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const patched = Symbol.for('kelt.kafkajsPatch');

/**
 * Replaces one of kafkajs's internal modules in Node's require cache before
 * the module that requires it (`loadedBy`) is loaded, so that kafkajs uses
 * the replacement. Fails when `loadedBy` was loaded first: the patch would
 * silently not apply. Test runners evaluate a patch once per test file while
 * the require cache lives on: a module already patched is left as it is.
 */
export function patchKafkajsModule<T extends object>(module: string, loadedBy: string, patch: (original: T) => T): void {
  const path = require.resolve(`kafkajs/src/${module}`);
  const dependentLoaded = require.resolve(`kafkajs/src/${loadedBy}`) in require.cache;
  const original = require(path) as T & { [patched]?: true };
  if (original[patched] === true) return;
  if (dependentLoaded) throw new Error(`kafkajs's ${loadedBy} was loaded before the patch of ${module}: import src/kafka/kafkajs-fixes.ts first`);
  require.cache[path]!.exports = Object.assign(patch(original), { [patched]: true });
}

/** Whether kafkajs's module, as kafkajs loads it, is kelt's replacement. */
export function kafkajsPatched(module: string): boolean {
  return (require(`kafkajs/src/${module}`) as { [patched]?: true })[patched] === true;
}
