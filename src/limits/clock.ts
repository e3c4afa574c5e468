/**
 * The time limits are decided at, and upstream targets judged by. Injected everywhere, so tests
 * move time instead of sleeping (STYLE.md: Envoy's TimeSource).
 */

/** Milliseconds since the epoch. */
export type Clock = () => number;
