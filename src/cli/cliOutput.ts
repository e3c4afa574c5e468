/**
 * What the account commands print: aligned columns and sentences for people, or — with `--json` —
 * exactly one JSON document on stdout for scripts (dates as ISO 8601 strings, absent values as
 * null). A command describes its result once and says how each audience sees it.
 *
 * @example
 * const out = cliOutput(process.stdout, { json: false });
 * out.result(users, () => out.table(["EMAIL", "ROLE"], users.map((u) => [u.email, u.role])));
 * // EMAIL            ROLE
 * // ada@example.com  admin
 */
import type { Writable } from "node:stream";

export interface CliOutput {
  readonly json: boolean;
  /** `document` as JSON in --json mode; otherwise whatever `forPeople` prints. */
  result(document: unknown, forPeople: () => void): void;
  /** A line for people (callers use it inside `forPeople`). */
  line(text?: string): void;
  /** Columns padded to their widest cell, two spaces apart; the header row is `columns`. */
  table(columns: readonly string[], rows: readonly (readonly string[])[]): void;
}

export function cliOutput(stdout: Writable, options: { readonly json: boolean }): CliOutput {
  const line = (text = "") => {
    stdout.write(`${text}\n`);
  };
  return {
    json: options.json,
    result(document, forPeople) {
      if (options.json) stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      else forPeople();
    },
    line,
    table(columns, rows) {
      for (const row of formatTable(columns, rows)) line(row);
    },
  };
}

/** The table's lines; the last column is not padded, so no line ends in spaces. */
export function formatTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [columns, ...rows];
  const widths = columns.map((_, i) => Math.max(...all.map((row) => width(row[i] ?? ""))));
  return all.map((row) => columns.map((_, i) => {
    const cell = row[i] ?? "";
    return i === columns.length - 1 ? cell : cell + " ".repeat(widths[i]! - width(cell));
  }).join("  ").trimEnd());
}

/** Code points, not UTF-16 units: an email address with an accent still lines up. */
function width(text: string): number {
  return [...text].length;
}

/** A time for a table cell: ISO 8601 to the second, UTC; "-" when there is none. */
export function formatTime(time: Date | null | undefined): string {
  return time == null ? "-" : `${time.toISOString().slice(0, 19)}Z`;
}
