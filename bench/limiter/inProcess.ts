/**
 * In-process decisions per second: Sluice's MemoryStore against rate-limiter-flexible's
 * RateLimiterMemory, in the same process, on the same keys, with the same policy: a fixed window
 * that starts at each key's first request (the only window RateLimiterMemory has), 10⁷ units per
 * hour, so nothing is refused unless the scenario spent a key's budget beforehand.
 *
 * Each caller makes one decision at a time, as a request handler would: Sluice's `consume` is
 * synchronous; rate-limiter-flexible's returns a promise, which is awaited before the next
 * decision (its fastest mode here: firing a pass of promises at once and awaiting them together
 * was slower in trials, 1.3 M/s against 1.9 M/s).
 *
 * Each scenario runs twice over. With the key built per decision, both make a fresh string for
 * every decision, Sluice as `<policy>|<subject>`, rate-limiter-flexible as `<keyPrefix>:<subject>`
 * inside `consume`; hashing that fresh string costs about as much as Sluice's whole decision, so
 * this row measures string building as much as limiting. With the key held by the caller, both
 * get the same ready-made keys (rate-limiter-flexible with an empty `keyPrefix`, which makes it
 * use the key as given): the limiter alone, as a caller that keeps its keys would use it.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { FixedWindowPolicy } from "../../src/limiter/policy.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";

/** One window for every key, longer than any run: keys never roll over mid-measurement. */
const WINDOW_S = 3_600;
/** Units per key per window: far more than a run gives any key, unless its budget was spent up front. */
const LIMIT = 10_000_000;

export interface Scenario {
  readonly name: string;
  /** Every n-th key has spent its whole budget before the run (0: none), so 1/n of decisions are refused. */
  readonly spentEvery: number;
  /** The caller holds each full key (true), or builds it from the subject on every decision. */
  readonly keyHeld: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: "key built, none refused", spentEvery: 0, keyHeld: false },
  { name: "key built, 1 in 5 refused", spentEvery: 5, keyHeld: false },
  { name: "key held, none refused", spentEvery: 0, keyHeld: true },
  { name: "key held, 1 in 5 refused", spentEvery: 5, keyHeld: true },
];

/** A limiter set up for one scenario: every key already seen once, the spent ones at their limit. */
export interface PreparedLimiter {
  /** One decision for every subject in order; resolves to how many were refused. */
  pass(): number | Promise<number>;
  /** Drops every key (and rate-limiter-flexible's expiry timers), so no run carries the last one's heap. */
  close(): Promise<void>;
}

export interface InProcessContender {
  readonly name: string;
  prepare(subjects: readonly string[], scenario: Scenario): Promise<PreparedLimiter>;
}

const POLICY: FixedWindowPolicy = { name: "bench", algorithm: "fixed-window", limit: LIMIT, windowMs: WINDOW_S * 1000 };

export const sluiceMemory: InProcessContender = {
  name: "sluice MemoryStore",
  prepare(subjects, scenario) {
    // No sweep timer: nothing expires during a run, and the timer would only add noise. The cap
    // on keys is the gateway's default (1,000,000): the working set fits, as it should in production.
    const store = new MemoryStore({ sweepIntervalMs: 0 });
    subjects.forEach((subject, i) => {
      const cost = spent(scenario, i) ? LIMIT : 1;
      if (!store.consume([{ key: `${POLICY.name}|${subject}`, policy: POLICY, cost }]).allowed) throw new Error("sluice refused a set-up decision");
    });
    const keys = subjects.map((subject) => `${POLICY.name}|${subject}`);
    return Promise.resolve({
      pass: scenario.keyHeld
        ? () => {
          let refused = 0;
          for (const key of keys) if (!store.consume([{ key, policy: POLICY, cost: 1 }]).allowed) refused++;
          return refused;
        }
        : () => {
          let refused = 0;
          for (const subject of subjects) {
            if (!store.consume([{ key: `${POLICY.name}|${subject}`, policy: POLICY, cost: 1 }]).allowed) refused++;
          }
          return refused;
        },
      close: () => store.close(),
    });
  },
};

export const flexibleMemory: InProcessContender = {
  name: "rate-limiter-flexible RateLimiterMemory",
  async prepare(subjects, scenario) {
    // An empty prefix makes rate-limiter-flexible use the key it is given as is.
    const limiter = new RateLimiterMemory({ points: LIMIT, duration: WINDOW_S, keyPrefix: scenario.keyHeld ? "" : POLICY.name });
    const keys = scenario.keyHeld ? subjects.map((subject) => `${POLICY.name}|${subject}`) : subjects;
    for (let i = 0; i < keys.length; i++) await limiter.consume(keys[i]!, spent(scenario, i) ? LIMIT : 1);
    return {
      async pass() {
        let refused = 0;
        for (const subject of keys) {
          try {
            await limiter.consume(subject);
          } catch (error) {
            // A refusal rejects with the limiter's result; anything else is a real failure.
            if (!(error instanceof RateLimiterRes)) throw error;
            refused++;
          }
        }
        return refused;
      },
      async close() {
        for (const subject of keys) await limiter.delete(subject);
      },
    };
  },
};

export const IN_PROCESS_CONTENDERS: readonly InProcessContender[] = [sluiceMemory, flexibleMemory];

/**
 * Before any timing: both limiters admit exactly `limit` decisions of a fresh key in one window
 * and refuse the next, so they are deciding the same thing.
 */
export async function checkInProcessAgreement(): Promise<void> {
  const policy: FixedWindowPolicy = { ...POLICY, limit: 3 };
  const store = new MemoryStore({ sweepIntervalMs: 0 });
  const limiter = new RateLimiterMemory({ points: 3, duration: WINDOW_S, keyPrefix: policy.name });
  const sluice: boolean[] = [];
  const flexible: boolean[] = [];
  for (let i = 0; i < 4; i++) {
    sluice.push(store.consume([{ key: `${policy.name}|agreement`, policy, cost: 1 }]).allowed);
    try {
      await limiter.consume("agreement");
      flexible.push(true);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      flexible.push(false);
    }
  }
  await store.close();
  const expected = "true,true,true,false";
  if (sluice.join() !== expected || flexible.join() !== expected) {
    throw new Error(`the in-process limiters disagree on a limit of 3: sluice ${sluice.join()}, rate-limiter-flexible ${flexible.join()}`);
  }
}

export interface InProcessRun {
  readonly decisions: number;
  readonly refused: number;
  readonly seconds: number;
  readonly perSecond: number;
  /**
   * CPU time of this process ÷ wall time: about 1 when the bench had its core to itself, less
   * when something else ran there (a noise flag, as other work on the machine is not ours to stop).
   */
  readonly cpuShare: number;
}

/** Passes over all keys for `warmupS` (uncounted), then for `seconds`; the clock is read between passes. */
export async function runInProcess(limiter: PreparedLimiter, keys: number, warmupS: number, seconds: number): Promise<InProcessRun> {
  await passesFor(limiter, keys, warmupS);
  return passesFor(limiter, keys, seconds);
}

async function passesFor(limiter: PreparedLimiter, keys: number, seconds: number): Promise<InProcessRun> {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  let decisions = 0;
  let refused = 0;
  let now = start;
  while (now < end) {
    refused += await limiter.pass();
    decisions += keys;
    now = performance.now();
  }
  const elapsed = (now - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { decisions, refused, seconds: elapsed, perSecond: elapsed > 0 ? decisions / elapsed : 0, cpuShare: elapsed > 0 ? (cpu.user + cpu.system) / 1e6 / elapsed : 0 };
}

function spent(scenario: Scenario, index: number): boolean {
  return scenario.spentEvery > 0 && index % scenario.spentEvery === 0;
}
