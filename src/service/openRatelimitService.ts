/**
 * Puts the rate-limit service together for src/sluice.ts: the service on the gateway's store and
 * the config's named policies, its callers (the admin token, and service tokens when there is a
 * database), and the HTTP handler the dispatcher sends /v1/ratelimit* to. The Envoy gRPC server
 * takes `service.policies` and the same store from here.
 *
 * @example
 * const ratelimit = await openRatelimitService({ policies: config.policies, store, accounts, adminToken, logger });
 * // dispatcher: if (req.url.startsWith(RATELIMIT_PREFIX)) ratelimit.handle(req, res);
 * await ratelimit.close();
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Accounts } from "../accounts/accounts.js";
import type { SluiceConfig } from "../config/schema.js";
import type { LoadShedder } from "../lifecycle/loadShedder.js";
import type { Logger } from "../observability/logger.js";
import type { RateLimitStore } from "../stores/store.js";
import { compilePolicyBook } from "./descriptorPolicies.js";
import { createRatelimitHandler } from "./ratelimitApi.js";
import { RatelimitService } from "./ratelimitService.js";
import { serviceAuthenticator } from "./serviceAuth.js";
import { serviceTokenRepository } from "./serviceTokens.js";
import { serviceTokenVerifier } from "./serviceTokenVerifier.js";

export interface RatelimitServiceDeps {
  readonly policies: SluiceConfig["policies"];
  readonly store: RateLimitStore;
  /** Service tokens live in the accounts' database; without it only the admin token is accepted. */
  readonly accounts?: Accounts | undefined;
  readonly adminToken?: string | undefined;
  readonly logger: Logger;
  /** Refuses calls while the process cannot keep up; never when undefined. */
  readonly shedder?: Pick<LoadShedder, "shed"> | undefined;
}

export interface RunningRatelimitService {
  readonly service: RatelimitService;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** A reloaded config's policies, for calls from now on; counters carry over (their keys hold no numbers). */
  usePolicies(policies: SluiceConfig["policies"]): void;
  /** Stops listening for token changes; the store and database belong to the caller. */
  close(): Promise<void>;
}

export async function openRatelimitService({ policies, store, accounts, adminToken, logger, shedder }: RatelimitServiceDeps): Promise<RunningRatelimitService> {
  const log = logger.child({ plane: "ratelimit" });
  const tokens = accounts && await serviceTokenVerifier(serviceTokenRepository(accounts.db, { now: accounts.now }), accounts.db, {
    now: accounts.now,
    onError: (error) => log.warn({ err: error }, "could not reload the service tokens; the ones loaded before stay in force"),
  });
  const service = new RatelimitService({
    store,
    policies: compilePolicyBook(policies),
    onStoreError: (error) => log.warn({ err: error }, "the limiter store could not be reached for a rate-limit call"),
  });
  return {
    service,
    handle: createRatelimitHandler({ service, authenticate: serviceAuthenticator({ adminToken, tokens }), logger: log, shedder }),
    usePolicies: (next) => {
      service.policies = compilePolicyBook(next);
    },
    close: async () => {
      await tokens?.close();
    },
  };
}
