/** A connection URL fit for logs and output: its password masked; `fallback` when it does not parse. */
export function redactUrl(url: string, fallback = "<unparsable URL>"): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return fallback;
  }
}
