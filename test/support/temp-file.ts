import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `text` to a file called `name` in a new temporary directory (a test's schema, spec or transform module). */
export function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kelt-test-file-')), name);
  writeFileSync(path, text);
  return path;
}
