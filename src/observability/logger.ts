/**
 * Structured JSON logs (pino). Secrets never reach a log line: the redaction list covers every
 * header that can carry a credential, wherever a request object is logged. Every line carries
 * `"name":"sluice"`; `service` is left to the lines about one gateway service.
 *
 * In a terminal the CLI's lines are pretty-printed (pino-pretty, in-process and synchronous, so they
 * keep their order with the CLI's own output); anywhere else they stay JSON lines for machines.
 * pino-pretty is loaded only for a terminal: it takes a fifth of a second to import.
 *
 * The access log writes one line per request, so outside a terminal it has a logger of its own
 * (`createAccessLogger`) whose lines are written in batches rather than one write(2) each.
 *
 * @example
 * const logger = await createStdoutLogger("info"); // pretty on a TTY, JSON otherwise
 * const quiet = createLogger("warn", someWritable);  // tests read the JSON lines back
 * const access = createAccessLogger(logger);       // batched JSON lines, or `logger` itself on a TTY
 */
import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "../config/schema.js";

export type { Logger };


const REDACT = ["req.headers.authorization", "req.headers.cookie", 'req.headers["x-api-key"]', "headers.authorization", "headers.cookie", 'headers["x-api-key"]'];

/** JSON lines to `destination` (default stdout). */
export function createLogger(level: LogLevel = "info", destination?: DestinationStream): Logger {
  const options = { level, base: { name: "sluice" }, redact: { paths: REDACT, censor: "[redacted]" } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A logger and how to write out what it still holds. */
export interface BatchedLogger {
  readonly logger: Logger;
  /** Writes out every line logged so far. */
  flush(): void;
}

/**
 * Stdout's JSON lines in batches, for the access log: at ~10,000 requests per second a write(2)
 * per line costs about as much CPU as the gateway's own work on a request. A batch is written once
 * it holds 3.5 KiB, and at least every second; no write is larger than 4 KiB (PIPE_BUF) and every
 * write is whole lines, so the lines of several workers sharing one stdout pipe never mix. Writes
 * stay synchronous, as pino's are by default: a batch is out when the call that filled it returns.
 * What a killed process held (under a second's worth) is lost; a shutdown writes it (`flush`). In
 * a terminal there is no batching: `base` itself, pretty and synchronous.
 */
export function createAccessLogger(base: Logger): BatchedLogger {
  if (process.stdout.isTTY === true) return { logger: base, flush: () => undefined };
  const destination = pino.destination({ dest: 1, sync: true, minLength: 3584, maxWrite: 4096, periodicFlush: 1000 });
  return { logger: createLogger(base.level as LogLevel, destination), flush: () => destination.flushSync() };
}

/** The CLI's logger: pretty, one line per entry, when stdout is a terminal; JSON lines otherwise. */
export async function createStdoutLogger(level: LogLevel): Promise<Logger> {
  if (process.stdout.isTTY !== true) return createLogger(level);
  const { PinoPretty } = await import("pino-pretty");
  return createLogger(level, PinoPretty({ sync: true, singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
}
