/**
 * The bench's API keys, shared by the orchestrator, the gateway's config and every baseline, so
 * all targets accept exactly the same keys: key i is `bench-key-<i, 5 digits>` and belongs to
 * consumer `c<i>`. The one-key runs send key 0; the rotating runs send all of them in turn.
 */

/** How many keys every target accepts, and the rotating runs cycle through. */
export const KEY_COUNT = 10_000;

export function benchKey(i: number): string {
  return `bench-key-${String(i).padStart(5, "0")}`;
}

export function consumerName(i: number): string {
  return `c${i}`;
}

/** key → consumer, for a baseline's key check: one Map lookup per request. */
export function keyTable(count = KEY_COUNT): Map<string, string> {
  const table = new Map<string, string>();
  for (let i = 0; i < count; i++) table.set(benchKey(i), consumerName(i));
  return table;
}
