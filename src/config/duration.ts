/** Durations in config are strings with a unit — "500ms", "30s", "1m", "2h", "1d" — never bare numbers, never zero. */
export const DURATION_PATTERN = /^([1-9]\d*)(ms|s|m|h|d)$/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds in a duration string; throws on anything that does not match DURATION_PATTERN. */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
