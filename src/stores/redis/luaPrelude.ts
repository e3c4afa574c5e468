/**
 * The Lua both store scripts (decideScript.ts, refundScript.ts) begin with: how they print a
 * number, and the time a call runs at. Spliced into each script's text, so each stays one
 * self-contained script for EVALSHA.
 */

/**
 * `fmt(x)`: exactly string.format("%.17g", x), but an integer takes the integer conversion: "%d"
 * prints the same digits for every integer a double holds exactly (|x| < 2^53) except -0, which
 * "%.17g" prints as "-0" (and JavaScript parses back to -0, not 0).
 */
export const LUA_FMT = String.raw`local function fmt(x)
  if x < 9007199254740992 and x > -9007199254740992 and x % 1 == 0 and (x ~= 0 or 1 / x > 0) then return string.format("%d", x) end
  return string.format("%.17g", x)
end`;

/** `now`, in ms: ARGV[1] when the store runs on a clock of its own (tests), else the server's TIME. */
export const LUA_NOW = String.raw`local now = tonumber(ARGV[1])
if not now then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;
