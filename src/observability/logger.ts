/**
 * Structured JSON logs (pino). Secrets never reach a log line: the redaction list covers every
 * header that can carry a credential, wherever a request object is logged.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const REDACT = ["req.headers.authorization", "req.headers.cookie", 'req.headers["x-api-key"]', "headers.authorization", "headers.cookie", 'headers["x-api-key"]'];

export function createLogger(level: LogLevel = "info"): Logger {
  return pino({ level, base: { service: "sluice" }, redact: { paths: REDACT, censor: "[redacted]" } });
}
