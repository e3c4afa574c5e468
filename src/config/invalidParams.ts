/**
 * What was wrong with an input, field by field, from a zod error: the one shape every boundary
 * reports bad input in (the HTTP APIs' `invalidParams`, a plan the CLI refuses). `name` is the
 * field's dotted path ("limits.free-rate.window"; "" for the input as a whole).
 */
import type { z } from "zod";

export interface InvalidParam {
  readonly name: string;
  readonly reason: string;
}

/** A zod error's issues as fields; an unknown field is named itself rather than by its parent. */
export function invalidParams(error: z.ZodError): InvalidParam[] {
  const at = (path: readonly PropertyKey[]) => path.map(String).join(".");
  return error.issues.flatMap((issue) => issue.code === "unrecognized_keys"
    ? issue.keys.map((key) => ({ name: at([...issue.path, key]), reason: "unknown field" }))
    : [{ name: at(issue.path), reason: issue.message }]);
}
