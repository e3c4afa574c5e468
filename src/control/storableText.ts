/**
 * Text the accounts database can keep, checked at the control plane's edge. PostgreSQL's `text`
 * holds neither a NUL (both engines fail the statement: "invalid byte sequence for encoding UTF8:
 * 0x00", which was a 500) nor a lone UTF-16 surrogate (it has no UTF-8 form: stored silently as
 * U+FFFD, another string than the one sent). Every string of every control-plane request — in its
 * body, its query and its path parameters, keys included — is checked before any handler runs, and
 * a bad one is a 400 naming the field, so a route added later cannot forget it.
 *
 * @example
 * refuseUnstorableText(app); // once, before the routes
 * unstorableText({ email: "a\u0000@example.com" }); // → [{ name: "email", reason: "contains a NUL character…" }]
 */
import type { FastifyInstance } from "fastify";
import type { InvalidParam } from "../config/invalidParams.js";
import { isWellFormed, NOT_WELL_FORMED } from "../config/wellFormedText.js";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";

const NUL = "\u0000";

/** Why `text` cannot be stored, or undefined when it can. */
function textProblem(text: string): string | undefined {
  if (text.includes(NUL)) return "contains a NUL character, which cannot be stored";
  if (!isWellFormed(text)) return NOT_WELL_FORMED;
  return undefined;
}

/**
 * Every string in `value` (a parsed JSON body, a query, path parameters), keys included, that
 * cannot be stored, named by its dotted path as `invalidParams` names fields ("" for `value`
 * itself), outer fields first. Walked without recursion: a body may nest as deep as its size allows.
 */
export function unstorableText(value: unknown): InvalidParam[] {
  const found: InvalidParam[] = [];
  const queue: [path: string, value: unknown][] = [["", value]];
  const at = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);
  for (let i = 0; i < queue.length; i++) {
    const [path, item] = queue[i]!;
    if (typeof item === "string") {
      const reason = textProblem(item);
      if (reason !== undefined) found.push({ name: path, reason });
    } else if (Array.isArray(item)) {
      item.forEach((element, index) => queue.push([at(path, String(index)), element]));
    } else if (typeof item === "object" && item !== null) {
      for (const [key, element] of Object.entries(item)) {
        const reason = textProblem(key);
        if (reason === undefined) queue.push([at(path, key), element]);
        else found.push({ name: at(path, key), reason: `its name ${reason}` });
      }
    }
  }
  return found;
}

/** Answers 400, naming each field, any request whose body, query or path parameters hold text that cannot be stored. */
export function refuseUnstorableText(app: FastifyInstance): void {
  app.addHook("preValidation", async function refuseUnstorable(request, reply) {
    const invalid = [request.params, request.query, request.body].flatMap(unstorableText);
    if (invalid.length === 0) return undefined;
    const detail = invalid.map((p) => `${p.name || "(body)"}: ${p.reason}`).join("; ");
    return replyProblem(reply, problems.badRequest, `Invalid request: ${detail}.`, { invalidParams: invalid });
  });
}
