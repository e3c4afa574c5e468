/**
 * Verifies service tokens without a database query per call: the table of live tokens is small
 * (an operator makes a handful), so each instance holds all of them in memory, by SHA-256, and
 * answers synchronously. A presented token is hashed and looked up; a lookup by hash reveals
 * through its timing at most something of a hash, never of a token, which is why keys are
 * compared this way rather than by comparing secrets.
 *
 * Staying correct. The set is loaded at start and reloaded whenever the `sluice_service_tokens`
 * channel announces a change from any instance (a revocation reaches every instance as soon as it
 * commits), and after a lost connection (`MISSED_NOTIFICATIONS`). Notices that arrive during a
 * load trigger one more load, so a load that began before a change cannot be the last word.
 * Expiry is checked against the clock on every call. A failed reload keeps the set it had and
 * reports to `onError`; the next notice tries again.
 *
 * @example
 * const tokens = await serviceTokenVerifier(serviceTokenRepository(db), db);
 * tokens.verify("st_…"); // → { id, rights: ["decide"], scope: null } or undefined
 */
import { sha256Hex } from "../config/apiKeyDigest.js";
import type { Database } from "../db/database.js";
import { SERVICE_TOKEN_PATTERN, SERVICE_TOKENS_CHANNEL, type ServiceTokenRepository, type ServiceTokenRight, type TokenScope } from "./serviceTokens.js";

export interface VerifiedServiceToken {
  readonly id: string;
  readonly rights: readonly ServiceTokenRight[];
  /** null: every namespace and policy. */
  readonly scope: TokenScope | null;
}

export interface ServiceTokenVerifier {
  /** The token's id, rights and scope when it is live; undefined for anything else, alike. */
  verify(token: string): VerifiedServiceToken | undefined;
  /** Resolves once the set reflects every change announced so far. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceTokenVerifierOptions {
  readonly now?: (() => number) | undefined;
  readonly onError?: ((error: unknown) => void) | undefined;
}

interface Held extends VerifiedServiceToken {
  /** Epoch ms; Infinity: never. */
  readonly expiresAt: number;
}

export async function serviceTokenVerifier(
  repo: Pick<ServiceTokenRepository, "active">,
  db: Pick<Database, "listen">,
  options: ServiceTokenVerifierOptions = {},
): Promise<ServiceTokenVerifier> {
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => undefined);
  let byHash = new Map<string, Held>();
  let loading: Promise<void> | undefined;
  let again = false;

  const loadOnce = async () => {
    const tokens = await repo.active(new Date(now()));
    byHash = new Map(tokens.map((t) => [t.hash, { id: t.id, rights: Object.freeze([...t.rights]), scope: t.scope, expiresAt: t.expiresAt?.getTime() ?? Infinity }]));
  };
  const reload = (): Promise<void> => {
    if (loading !== undefined) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        await loadOnce().catch(onError);
      } while (again);
    })().finally(() => {
      loading = undefined;
    });
    return loading;
  };

  // Listen first, so no change slips between the load and the first notice.
  const stopListening = await db.listen(SERVICE_TOKENS_CHANNEL, () => void reload());
  await loadOnce();

  return {
    verify(token) {
      if (!SERVICE_TOKEN_PATTERN.test(token)) return undefined;
      const held = byHash.get(sha256Hex(token));
      return held !== undefined && held.expiresAt > now() ? held : undefined;
    },
    reload,
    close: stopListening,
  };
}
