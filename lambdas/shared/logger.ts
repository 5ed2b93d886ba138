/** The structured logger of every function, and the small logging port the pure cores depend on. */
import { Logger } from '@aws-lambda-powertools/logger';

/**
 * What a core needs from a logger. Powertools' `Logger` satisfies it; tests pass a recorder, so
 * cores are checked for what they log without capturing stdout.
 */
export interface Log {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
}

/**
 * A Powertools JSON logger for one function, its `service` field set to `serviceName`. The level
 * comes from `POWERTOOLS_LOG_LEVEL` (Powertools reads it), so it is set per function by the stack.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
