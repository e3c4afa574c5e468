/**
 * The gateway's view of a browser session: the consumer behind a session token, so a signed-in
 * person's own page (the dashboard's playground) can call /api/* without handling an API key.
 * The answer is cached for a moment (a session lookup is two queries), so a session that ends
 * is refused within `ttlMs` (2 s).
 */
import type { Accounts } from "./accounts.js";
import type { Consumer } from "./consumer.js";

export interface SessionConsumers {
  /** The session's consumer (`user:<id>` on the user's plan), or undefined; synchronous when cached. */
  verify(token: string): Consumer | undefined | Promise<Consumer | undefined>;
  /** The consumer of a session the cache holds as valid right now, without any lookup; else undefined (as ApiKeyVerifier.known). */
  known(token: string): Consumer | undefined;
}

interface Entry {
  readonly consumer: Consumer | undefined;
  readonly until: number;
}

export function sessionConsumers(accounts: Pick<Accounts, "sessionUser">, options: { readonly ttlMs?: number; readonly maxEntries?: number; readonly now?: () => number } = {}): SessionConsumers {
  const ttlMs = options.ttlMs ?? 2_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();

  const lookup = async (token: string): Promise<Consumer | undefined> => {
    const user = await accounts.sessionUser(token);
    const consumer = user && Object.freeze({ id: `user:${user.id}`, plan: user.plan });
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(token, { consumer, until: now() + ttlMs });
    return consumer;
  };

  return {
    verify(token) {
      const entry = cache.get(token);
      if (entry !== undefined && entry.until > now()) return entry.consumer;
      return lookup(token);
    },
    known(token) {
      const entry = cache.get(token);
      return entry !== undefined && entry.until > now() ? entry.consumer : undefined;
    },
  };
}
