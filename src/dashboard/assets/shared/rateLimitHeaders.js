/*
 * The gateway's RateLimit and RateLimit-Policy headers (structured fields), read and put into
 * words for the playground: which limit binds, what is left of it and when its window resets.
 */

/**
 * The RateLimit and RateLimit-Policy headers, read: the binding limit's name, what is left,
 * seconds to its reset, and its quota and window when the policy names them. Null without them.
 */
export function readRateLimit(headers) {
  const value = headers.get("ratelimit");
  if (!value) return null;
  const item = parseItem(value.split(",")[0]);
  if (item === null || item.params.r === undefined) return null;
  const policy = (headers.get("ratelimit-policy") ?? "").split(",").map(parseItem).find((p) => p !== null && p.name === item.name);
  return { name: item.name, remaining: item.params.r, resetSeconds: item.params.t, quota: policy?.params.q, windowSeconds: policy?.params.w };
}

/** One structured-field item with integer parameters: `"name";r=4;t=30`. */
function parseItem(text) {
  const match = /^\s*"([^"]*)"((?:\s*;\s*[a-z]+=\d+)*)\s*$/.exec(text);
  if (match === null) return null;
  const params = {};
  for (const [, key, number] of match[2].matchAll(/([a-z]+)=(\d+)/g)) params[key] = Number(number);
  return { name: match[1], params };
}

/** "3 of 5 requests left in this window (limit “random”); the window resets in 4 s.", or "" without a limit. */
export function describeRateLimit(limit) {
  if (limit === null) return "";
  const left = limit.quota === undefined ? `${limit.remaining} requests left` : `${limit.remaining} of ${limit.quota} requests left`;
  const reset = limit.resetSeconds === undefined ? "" : `; the window resets in ${limit.resetSeconds} s`;
  return `${left} in this window (limit “${limit.name}”)${reset}.`;
}
