/*
 * Talking to Sluice: every request the pages make goes through call(), same-origin with the
 * session cookie and, for a change, a JSON body (which the server's Origin check and JSON-only
 * parsing protect from cross-site requests). Answers are data, never exceptions; problemText
 * and retryAfterSeconds turn a refusal into words.
 */
/* global window, fetch */

/**
 * A same-origin request; a JSON body when `body` is given. Resolves with the status, headers and
 * parsed body (null when empty or not JSON); status 0 when Sluice could not be reached.
 */
export async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json, application/problem+json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { status: 0, ok: false, headers: new window.Headers(), data: null };
  }
  const text = await response.text();
  let data = null;
  try {
    data = text === "" ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, headers: response.headers, data };
}

/** What a failed answer says, for people. */
export function problemText(result) {
  if (result.status === 0) return "Sluice did not answer. Check that it is running, then try again.";
  const detail = result.data && (result.data.detail || result.data.title);
  return detail ? String(detail) : `Sluice answered with status ${result.status}.`;
}

/** Seconds from a Retry-After header (at least 1). */
export function retryAfterSeconds(headers) {
  const seconds = Number.parseInt(headers.get("retry-after") ?? "", 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 1;
}
