/**
 * Structured JSON logs (pino). Secrets never reach a log line: the redaction list covers every
 * header that can carry a credential, wherever a request object is logged.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

const REDACT = ["req.headers.authorization", "req.headers.cookie", 'req.headers["x-api-key"]', "headers.authorization", "headers.cookie", 'headers["x-api-key"]'];

export function createLogger(level: LevelWithSilent = "info"): Logger {
  return pino({ level, base: { service: "sluice" }, redact: { paths: REDACT, censor: "[redacted]" } });
}
