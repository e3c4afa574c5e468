/** A pino logger whose lines a test can read back. */
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done(); } });
  const logger = pino({ level: "info" }, sink);
  return { logger, lines: () => chunks.join("").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}
