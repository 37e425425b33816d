import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/env.ts';
import { redactDeep, redactText } from './redact.ts';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout is for a command's own output).
 * Secrets are redacted wherever they appear: secret keys at any depth, URL
 * userinfo in any field, error, or message.
 */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: redactDeep(bindings) as Record<string, unknown>,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (fields) => redactDeep(fields) as Record<string, unknown>,
        log: (fields) => redactDeep(fields) as Record<string, unknown>,
      },
      serializers: { err: (error: Error) => redactDeep(pino.stdSerializers.err(error)) as ReturnType<typeof pino.stdSerializers.err> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
