/**
 * Counts the gateway's allowed and limited requests per caller per minute, in memory, and writes
 * them to the accounts database in batches: never a database write per request.
 *
 * Architecture. The limit stage calls `record(consumer, allowed, at)` once per decided request,
 * with the time its verdict was made at (no clock read of its own: on some hosts reading the clock
 * is a system call). The count lives in a Map keyed by the Consumer object itself: the key
 * verifier and the session cache hand out the same frozen object for a key while it is cached, so
 * a request costs a comparison, a Map lookup and an increment, and allocates nothing but a counter
 * the first time a consumer shows up in a minute. When the minute turns, its counts move aside whole. Every `flushIntervalMs`
 * (10 s) — and whenever a reader asks (`flush()`, so a usage page is current) — the counts so far
 * are summed by subject (`key:<id>`, `user:<id>`: usageRepository.ts; keys from the config file are
 * not counted) and
 * minute and written in upserts of at most FLUSH_BATCH rows that add to what is stored, so
 * instances sharing a database and flushes within one minute add up.
 *
 * Durability. `close()` stops the timer and flushes; startSluice closes the recorder after the
 * server has stopped taking requests and before the database closes, so a graceful shutdown
 * loses nothing. A failed flush keeps its rows (merged with newer counts) for the next one and
 * reports to `onError`. A crash loses at most the last interval.
 *
 * Retention. Rows older than `retentionMs` (8 days: the usage page shows a week) are deleted
 * after a successful flush, at most once per `pruneIntervalMs` (an hour).
 *
 * @example
 * const usage = usageRecorder(usageRepository(db), { onError: (e) => logger.warn(e) });
 * usage.record(exchange.consumer, verdict.allowed, verdict.now); // in the limit stage
 * await usage.close();                              // on shutdown
 */
import type { Consumer } from "../accounts/consumer.js";
import { MINUTE_MS, type UsageRepository, type UsageRow } from "./usageRepository.js";

export const DEFAULT_USAGE_FLUSH_INTERVAL_MS = 10_000;
export const DEFAULT_USAGE_RETENTION_MS = 8 * 24 * 60 * MINUTE_MS;
const DEFAULT_PRUNE_INTERVAL_MS = 60 * MINUTE_MS;
/** Rows per statement of a flush. */
export const FLUSH_BATCH = 500;

export interface UsageRecorderOptions {
  /** Milliseconds since the epoch, for retention and records that bring no time; injected so tests move time. */
  readonly now?: (() => number) | undefined;
  readonly flushIntervalMs?: number | undefined;
  /** How long rows are kept. */
  readonly retentionMs?: number | undefined;
  /** Least time between two retention deletes. */
  readonly pruneIntervalMs?: number | undefined;
  /** Told of a failed background flush or delete (the counts are kept and retried). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

export interface UsageRecorder {
  /**
   * Counts one request of `consumer` at `at` (epoch ms; default: now), admitted or refused by its
   * limits. Synchronous, no I/O.
   */
  record(consumer: Consumer, allowed: boolean, at?: number): void;
  /** Writes everything counted so far (also the current minute). */
  flush(): Promise<void>;
  /** Stops the timer and flushes; once, however often it is called. Later records are dropped. */
  close(): Promise<void>;
}

interface Count {
  allowed: number;
  limited: number;
}

/** One minute's counts, by consumer object. */
interface Bucket {
  readonly minute: number;
  readonly counts: Map<Consumer, Count>;
}

/** The subject a consumer's usage is filed under. */
export function usageSubject(consumer: Consumer): string {
  return consumer.keyId !== undefined ? `key:${consumer.keyId}` : consumer.id;
}

/**
 * Whether a caller's usage is counted: an account's key, or a signed-in user (`user:<id>`,
 * sessionConsumers.ts). A key from the config file has no usage page, and counting thousands of
 * them would only make flushes long; the metrics count its requests.
 */
function hasUsagePage(consumer: Consumer): boolean {
  return consumer.keyId !== undefined || consumer.id.startsWith("user:");
}

export function usageRecorder(repo: Pick<UsageRepository, "add" | "deleteBefore">, options: UsageRecorderOptions = {}): UsageRecorder {
  const now = options.now ?? Date.now;
  const retentionMs = options.retentionMs ?? DEFAULT_USAGE_RETENTION_MS;
  const pruneIntervalMs = options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
  const onError = options.onError ?? (() => undefined);

  let minuteStart = 0;
  let minuteEnd = 0;
  let counts = new Map<Consumer, Count>();
  /** Minutes that ended since the last flush. */
  let ended: Bucket[] = [];
  /** Rows a failed flush could not write, by `subject minute`. */
  let unwritten = new Map<string, UsageRow>();
  let lastPrune = -Infinity;
  let flushed: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;

  const startMinute = (at: number): void => {
    if (counts.size > 0) ended.push({ minute: minuteStart, counts });
    counts = new Map();
    minuteStart = at - (at % MINUTE_MS);
    minuteEnd = minuteStart + MINUTE_MS;
  };

  /** Sums the buckets (and rows left from a failed flush) into one row per subject and minute. */
  const collect = (buckets: readonly Bucket[]): Map<string, UsageRow> => {
    const rows = unwritten;
    unwritten = new Map();
    for (const { minute, counts: byConsumer } of buckets) {
      for (const [consumer, count] of byConsumer) add(rows, usageSubject(consumer), minute, count.allowed, count.limited);
    }
    return rows;
  };

  const write = async (): Promise<void> => {
    const buckets = ended;
    ended = [];
    if (counts.size > 0) {
      buckets.push({ minute: minuteStart, counts });
      // The minute goes on counting in a fresh map; the upsert adds the two parts together.
      counts = new Map();
    }
    const rows = [...collect(buckets).values()];
    // In statements of at most FLUSH_BATCH rows: the embedded database runs on the gateway's own
    // thread, and one statement of every caller at once would stall the requests behind it.
    for (let from = 0; from < rows.length; from += FLUSH_BATCH) {
      // Requests that arrived meanwhile go first: a statement on the embedded database holds the thread.
      if (from > 0) await new Promise((resolve) => setImmediate(resolve));
      try {
        await repo.add(rows.slice(from, from + FLUSH_BATCH));
      } catch (error) {
        for (const row of rows.slice(from)) add(unwritten, row.subject, row.minute.getTime(), row.allowed, row.limited);
        throw error;
      }
    }
    const at = now();
    if (at - lastPrune >= pruneIntervalMs) {
      lastPrune = at;
      await repo.deleteBefore(new Date(at - retentionMs));
    }
  };

  const flush = (): Promise<void> => {
    const next = flushed.then(write);
    flushed = next.catch(() => undefined);
    return next;
  };

  const timer = setInterval(() => void flush().catch(onError), options.flushIntervalMs ?? DEFAULT_USAGE_FLUSH_INTERVAL_MS);
  timer.unref();

  return {
    record(consumer, allowed, at = now()) {
      if (closing !== undefined || !hasUsagePage(consumer)) return;
      if (at >= minuteEnd || at < minuteStart) startMinute(at);
      let count = counts.get(consumer);
      if (count === undefined) counts.set(consumer, (count = { allowed: 0, limited: 0 }));
      if (allowed) count.allowed += 1;
      else count.limited += 1;
    },
    flush,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await flush();
      })();
      return closing;
    },
  };
}

function add(rows: Map<string, UsageRow>, subject: string, minute: number, allowed: number, limited: number): void {
  const id = `${subject} ${minute}`;
  const row = rows.get(id);
  rows.set(id, row === undefined
    ? { subject, minute: new Date(minute), allowed, limited }
    : { subject, minute: row.minute, allowed: row.allowed + allowed, limited: row.limited + limited });
}
