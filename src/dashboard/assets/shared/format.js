/*
 * How the pages write dates, times, windows and counts for people, in the browser's locale.
 */

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A date and time, or "Never" for null (a key that never expires or was never used). */
export const formatDate = (iso) => (iso === null ? "Never" : dateFormat.format(new Date(iso)));

/** "08:31 AM": a time today. */
export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** "08:31:07 AM": a time to the second ("Updated at"). */
export const secondsFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** "Dec 9, 08:31 AM": a time more than a week away. */
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

/** "Wed 08:31 AM": a time this week. */
export const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" });

/** "1 user", "3 users". */
export const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A server's reason as a sentence: capitalised, with a full stop. */
export const sentence = (text) => String(text).charAt(0).toUpperCase() + String(text).slice(1) + (/[.!?]$/.test(text) ? "" : ".");

/** A window in the largest whole unit: "30 s", "15 min", "1 d". */
export function formatWindow(seconds) {
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["min", 60]]) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
  }
  return `${seconds} s`;
}

/** When a limit is full again, as briefly as is clear: "now", "in 12 s", "in 9 min", "08:31 AM", "Wed 08:31 AM", "Dec 9, 08:31 AM". */
export function formatReset(iso) {
  const ms = Date.parse(iso) - Date.now();
  if (ms <= 0) return "now";
  if (ms < 60_000) return `in ${Math.ceil(ms / 1000)} s`;
  if (ms < 3_600_000) return `in ${Math.ceil(ms / 60_000)} min`;
  if (ms < 86_400_000) return timeFormat.format(new Date(iso));
  return (ms < 6 * 86_400_000 ? dayFormat : dateTimeFormat).format(new Date(iso));
}

/** A wait in words: "40 s", "15 min", "2 h 5 min" (a Retry-After of 899 s is "15 min"). */
export function formatWait(seconds) {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 === 0 ? "" : ` ${minutes % 60} min`}`;
}
