import { readFileSync } from 'node:fs';
import type { TlsFiles } from './endpoints.ts';

/** The PEM text of a connection's TLS files, for whichever client: a private CA, and a client certificate with its key (both or neither). */
export function tlsMaterial(files: TlsFiles | undefined): { ca?: string; cert?: string; key?: string } {
  return {
    ...(files?.caFile === undefined ? {} : { ca: readFileSync(files.caFile, 'utf8') }),
    ...(files?.certFile === undefined || files.keyFile === undefined
      ? {}
      : { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') }),
  };
}
