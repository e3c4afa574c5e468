/**
 * Puts the rate-limit service together for src/sluice.ts: the service on the gateway's store and
 * the config's named policies, its callers (the admin token, and service tokens when there is a
 * database) and what they may use (`serviceTokens`), and the HTTP handler the dispatcher sends
 * /v1/ratelimit* to. The Envoy gRPC server takes `service.policies`, `authenticate`, `tokenSettings()`
 * and the same store from here.
 *
 * @example
 * const ratelimit = await openRatelimitService({ config, store, accounts, adminToken, logger });
 * // dispatcher: if (req.url.startsWith(RATELIMIT_PREFIX)) ratelimit.handle(req, res);
 * await ratelimit.close();
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Accounts } from "../accounts/accounts.js";
import type { ServiceTokensConfig, SluiceConfig } from "../config/schema.js";
import type { LoadShedder } from "../edge/loadShedder.js";
import type { Logger } from "../observability/logger.js";
import type { RatelimitObserver } from "../observability/observers.js";
import type { RateLimitStore } from "../stores/store.js";
import { compilePolicyBook } from "./descriptorPolicies.js";
import { createRatelimitHandler } from "./ratelimitApi.js";
import { RatelimitService } from "./ratelimitService.js";
import { serviceAuthenticator, type ServiceCaller } from "./serviceAuth.js";
import { serviceTokenRepository } from "./serviceTokens.js";
import { serviceTokenVerifier } from "./serviceTokenVerifier.js";

/** The parts of the config the service reads; a reload swaps them. */
export type RatelimitServiceConfig = Pick<SluiceConfig, "policies" | "serviceTokens">;

export interface RatelimitServiceDeps {
  readonly config: RatelimitServiceConfig;
  readonly store: RateLimitStore;
  /** Service tokens live in the accounts' database; without it only the admin token is accepted. */
  readonly accounts?: Accounts | undefined;
  readonly adminToken?: string | undefined;
  readonly logger: Logger;
  /** Refuses calls while the process cannot keep up; never when undefined. */
  readonly shedder?: Pick<LoadShedder, "shed"> | undefined;
  /** Told of calls, decisions and refused tokens (observability/serviceMetrics.ts); the gRPC server takes it too. */
  readonly observer?: RatelimitObserver | undefined;
}

export interface RunningRatelimitService {
  readonly service: RatelimitService;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Who presents `Authorization: Bearer <token>` (over gRPC: the same metadata). */
  readonly authenticate: (authorization: string | undefined) => ServiceCaller | undefined;
  /** The `serviceTokens` settings in force. */
  readonly tokenSettings: () => ServiceTokensConfig;
  /** A reloaded config's policies and token settings, for calls from now on; counters carry over (their keys hold no numbers). */
  useConfig(config: RatelimitServiceConfig): void;
  /** Stops listening for token changes; the store and database belong to the caller. */
  close(): Promise<void>;
}

export async function openRatelimitService({ config, store, accounts, adminToken, logger, shedder, observer }: RatelimitServiceDeps): Promise<RunningRatelimitService> {
  const log = logger.child({ plane: "ratelimit" });
  const tokens = accounts && await serviceTokenVerifier(serviceTokenRepository(accounts.db, { now: accounts.now }), accounts.db, {
    now: accounts.now,
    onError: (error) => log.warn({ err: error }, "could not reload the service tokens; the ones loaded before stay in force"),
  });
  const service = new RatelimitService({
    store,
    policies: compilePolicyBook(config.policies),
    onStoreError: (error) => log.warn({ err: error }, "the limiter store could not be reached for a rate-limit call"),
    observer,
  });
  let settings = config.serviceTokens;
  const authenticate = serviceAuthenticator({ adminToken, tokens });
  return {
    service,
    handle: createRatelimitHandler({ service, authenticate, requireScope: () => settings.requireScope, logger: log, shedder, observer }),
    authenticate,
    tokenSettings: () => settings,
    useConfig: (next) => {
      service.policies = compilePolicyBook(next.policies);
      settings = next.serviceTokens;
    },
    close: async () => {
      await tokens?.close();
    },
  };
}
