/** Who is calling: the identity every later stage (limits, routing, logs) refers to. */
export interface Consumer {
  /** Stable id: the consumer's name in the config (later: the account id). Never the key. */
  readonly id: string;
  /** The plan the consumer is on, for limits counted by plan. */
  readonly plan?: string;
  /** The database key that authenticated the call (accounts' keys only), for logs and last-used. */
  readonly keyId?: string;
  /** Services the key may call; absent: all. */
  readonly scopes?: readonly string[];
}

/**
 * Checks an API key. Answers `undefined` for every key that must not pass, whatever the reason
 * (unknown, revoked, expired), so callers cannot tell those apart. May answer synchronously.
 */
export interface ApiKeyVerifier {
  verify(presentedKey: string): Consumer | undefined | Promise<Consumer | undefined>;
  /**
   * The consumer of a key that memory alone vouches for (a config key, a key verified moments
   * ago), without I/O; undefined for every other key, valid or not. A throttled address
   * (gateway/invalidKeyThrottle.ts) is served only such keys.
   */
  known(presentedKey: string): Consumer | undefined;
}

/**
 * Asks `first`, and `second` only for keys `first` does not know: the config's keys, answered
 * synchronously, before the database's.
 */
export function verifierChain(first: ApiKeyVerifier, second: ApiKeyVerifier): ApiKeyVerifier {
  return {
    verify(presentedKey) {
      const found = first.verify(presentedKey);
      if (found instanceof Promise) return found.then((consumer) => consumer ?? second.verify(presentedKey));
      return found ?? second.verify(presentedKey);
    },
    known: (presentedKey) => first.known(presentedKey) ?? second.known(presentedKey),
  };
}
