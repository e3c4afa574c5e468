/**
 * The messages between embeddedDatabase.ts and the engine's process (embeddedEngine.ts).
 * Rows cross as structured clones, which keep what PGlite returns (Dates, numbers, strings,
 * null); errors cross as their message and PostgreSQL's fields, so a caller still reads `code`
 * and `constraint` (accounts/users.ts tells a taken email from an unknown plan by them).
 */

/**
 * PGlite's own start parameters, and a shared_buffers for a small database (embeddedDatabase.ts
 * says why), for the engine's process and the child that creates a new directory's files.
 */
export function startParams(defaults: readonly string[]): string[] {
  return [...defaults, "-c", "shared_buffers=32MB"];
}

export type EngineRequest = { readonly id: number } & (
  | { readonly op: "query"; readonly sql: string; readonly params: readonly unknown[]; readonly tx?: number }
  | { readonly op: "exec"; readonly script: string; readonly tx?: number }
  | { readonly op: "begin" }
  | { readonly op: "commit" | "rollback"; readonly tx: number }
  | { readonly op: "listen"; readonly listener: number; readonly channel: string }
  | { readonly op: "unlisten"; readonly listener: number }
  | { readonly op: "close" }
);

/**
 * A request's answer (`id` 0 is the engine's start), or a notification for a listener (`id` -1).
 */
export type EngineReply =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: DescribedError }
  | { readonly id: -1; readonly listener: number; readonly payload: string };

/** An error as it crosses: its message and the PostgreSQL fields callers read. */
export interface DescribedError {
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** PostgreSQL's error fields worth keeping (PGlite's DatabaseError carries them as properties). */
const FIELDS = ["code", "constraint", "detail", "hint", "severity", "table", "column", "schema", "dataType", "routine"] as const;

export function describeError(error: unknown): DescribedError {
  const fields: Record<string, string> = {};
  if (typeof error === "object" && error !== null) {
    for (const name of FIELDS) {
      const value = (error as Record<string, unknown>)[name];
      if (typeof value === "string") fields[name] = value;
    }
  }
  return { message: error instanceof Error ? error.message : String(error), fields };
}

/** The error a caller sees: a new Error in this process, with the engine's message and fields. */
export function rebuildError(described: DescribedError): Error {
  return Object.assign(new Error(described.message), described.fields);
}
