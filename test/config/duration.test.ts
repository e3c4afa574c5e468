// Durations in the config file: a positive whole number followed by a unit (ms, s, m, h, d).
// Anything else — a bare number, zero, a fraction, a sign, stray spaces, an unknown unit — is
// refused rather than guessed at.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DURATION_PATTERN, parseDuration } from "../../src/config/duration.js";

describe("parseDuration", () => {
  const valid: readonly (readonly [text: string, ms: number])[] = [
    ["1ms", 1],
    ["500ms", 500],
    ["1s", 1_000],
    ["30s", 30_000],
    ["1m", 60_000],
    ["15m", 900_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["7d", 604_800_000],
    ["1000ms", 1_000],
    ["90s", 90_000],
  ];
  for (const [text, ms] of valid) {
    it(`reads "${text}" as ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
      assert.match(text, DURATION_PATTERN);
    });
  }

  const invalid: readonly (readonly [text: string, why: string])[] = [
    ["0s", "zero is not a duration"],
    ["0ms", "zero is not a duration in any unit"],
    ["01s", "a leading zero"],
    ["1.5s", "a fraction"],
    ["10", "a bare number has no unit"],
    ["1w", "weeks are not a unit"],
    ["1S", "units are lower-case"],
    ["1sec", "a spelled-out unit"],
    ["-1s", "a negative duration"],
    ["+1s", "an explicit sign"],
    [" 1s", "a leading space"],
    ["1s ", "a trailing space"],
    ["1 s", "a space between number and unit"],
    ["1m30s", "compound durations"],
    ["s", "a unit without a number"],
    ["", "the empty string"],
  ];
  for (const [text, why] of invalid) {
    it(`refuses ${JSON.stringify(text)} (${why})`, () => {
      assert.doesNotMatch(text, DURATION_PATTERN);
      assert.throws(() => parseDuration(text), { message: `not a duration: ${JSON.stringify(text)}` });
    });
  }
});
