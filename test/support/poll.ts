/**
 * For changes that must reach another part of the system "within a second" (a revoked key, a
 * plan change announced by NOTIFY): asks again until the answer is the awaited one or the time
 * is up, and returns the last answer for the test to assert on. The bound is the behaviour
 * under test, not a performance threshold.
 */
import { setTimeout as delay } from "node:timers/promises";

export async function pollUntil<T>(attempt: () => Promise<T>, done: (answer: T) => boolean, withinMs = 1_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  let answer = await attempt();
  while (!done(answer) && Date.now() < deadline) {
    // An attempt that needs no I/O would otherwise never let a timer run.
    await delay(2);
    answer = await attempt();
  }
  return answer;
}
