import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** helm (the binary `scripts/stack tools` builds) against a cluster's kubeconfig; resolves to its stdout. */
export function helmFor(binary: string, kubeconfig: string): (...args: string[]) => Promise<string> {
  return async (...args) => {
    const { stdout } = await run(binary, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  };
}
