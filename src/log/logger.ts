import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/env.ts';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout is for a command's own output).
 * Fields that may carry credentials are redacted wherever they appear.
 */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['password', '*.password', 'sasl', '*.sasl', 'mysqlUrl', '*.mysqlUrl'],
        censor: '***',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
