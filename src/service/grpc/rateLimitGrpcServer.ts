/**
 * Envoy's global rate-limit service over gRPC (`envoy.service.ratelimit.v3.RateLimitService/
 * ShouldRateLimit`), so Envoy and Istio can use Sluice as their rate-limit service. The protocol
 * definitions are our own, in proto/ at the package root (field numbers match Envoy's); they are
 * loaded at start from there, which is the same relative place from src/ and dist/.
 *
 * The server only translates: shouldRateLimit.ts resolves the descriptors through the policy
 * book and builds the response; the limiter store decides, with its deadline and failure modes.
 *
 * Callers. A call may carry a service token as `authorization: Bearer <token>` metadata (Envoy's
 * `grpc_service.initial_metadata`); its rights and scope then apply as over HTTP, the domain being
 * the policy (tokenScope.ts). A call without one is taken, as Envoy's own service takes it, unless
 * `serviceTokens.grpc` is `required`.
 *
 * Errors, as Envoy reads them (it applies its `failure_mode_deny` to any error): no token where
 * one is required, or one Sluice does not know, is UNAUTHENTICATED; a token without the `decide`
 * right or outside its scope PERMISSION_DENIED; a malformed request INVALID_ARGUMENT, a domain
 * with no policy NOT_FOUND, a store that throws or an overloaded process (edge/loadShedder.ts)
 * UNAVAILABLE (the failover store normally answers by each limit's onStoreFailure instead),
 * anything else a logged INTERNAL that reveals nothing. The listener is plaintext: bind it to
 * loopback or the mesh's internal network (docs/ratelimit-service.md).
 *
 * Neighbours on the same port, for the tools that expect them: the standard health service
 * (grpcHealth.ts: SERVING while /readyz says ready) and server reflection (`grpc.reflection.v1`
 * and `v1alpha`, @grpc/reflection), so grpcurl lists and calls the service without our proto files.
 * Neither takes a token: they say only what the proto files in this repository say, and whether
 * the instance is ready.
 *
 * @example
 * const rls = await startRateLimitGrpcServer({ host: "127.0.0.1", port: 8081, policies: () => book, authenticate, tokenSettings: () => config.serviceTokens, store, logger });
 * await rls.close();
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ReflectionService } from "@grpc/reflection";
import { Server, ServerCredentials, status, type Metadata, type ServerUnaryCall, type sendUnaryData, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import type { Logger } from "pino";
import type { ServiceTokensConfig } from "../../config/schema.js";
import type { LoadShedder } from "../../edge/loadShedder.js";
import type { Verdict } from "../../limiter/decision.js";
import type { RatelimitObserver, TokenFailure } from "../../observability/observers.js";
import type { RateLimitStore } from "../../stores/store.js";
import type { PolicyBook } from "../descriptorPolicies.js";
import type { ServiceCaller } from "../serviceAuth.js";
import { domainOutOfScope } from "../tokenScope.js";
import { grpcHealth, HEALTH_SERVICE } from "./grpcHealth.js";
import { requestTextProblem, TEXT_PROBLEM } from "./requestText.js";
import { InvalidRateLimitRequest, planDecision, responseFor, type PlannedDecision, type RateLimitRequestMessage, type RateLimitResponseMessage } from "./shouldRateLimit.js";

/** proto/ at the package root: three levels up from src/service/grpc/ and from dist/service/grpc/. */
export const PROTO_ROOT = fileURLToPath(new URL("../../../proto/", import.meta.url));
export const RLS_PROTO = "envoy/service/ratelimit/v3/rls.proto";
export const RLS_SERVICE = "envoy.service.ratelimit.v3.RateLimitService";
/** grpc-health-check's proto folder, and its health.proto within it. */
const HEALTH_PROTO_ROOT = dirname(dirname(dirname(healthProtoPath)));
const HEALTH_PROTO = "health/v1/health.proto";

/** How both sides read the messages: snake_case names, 64-bit numbers as numbers, enums by name. */
export const PROTO_LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true, includeDirs: [PROTO_ROOT] };

/** Largest request accepted; an Envoy request with many descriptors is a few KiB. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** How long close() lets calls in flight finish before cutting them off. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface RateLimitGrpcOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /** The policies of the current config (a function, so a reloaded config applies to the next call). */
  readonly policies: () => PolicyBook;
  /** Who a call's `authorization` metadata names (the HTTP API's authenticator). */
  readonly authenticate: (authorization: string | undefined) => ServiceCaller | undefined;
  /** The `serviceTokens` settings in force (read per call, so a reload applies). */
  readonly tokenSettings: () => ServiceTokensConfig;
  readonly store: RateLimitStore;
  readonly logger: Logger;
  /** Refuses calls (UNAVAILABLE) while the process cannot keep up; never when undefined. */
  readonly shedder?: Pick<LoadShedder, "shed"> | undefined;
  /** Whether the instance is ready, as /readyz says: the health service's status. Always, when undefined. */
  readonly ready?: (() => Promise<boolean>) | undefined;
  /** Told of each call's code and duration, its decisions and refused tokens, for /metrics. */
  readonly observer?: RatelimitObserver | undefined;
}

export interface RunningRateLimitGrpc {
  /** The port it listens on. */
  readonly port: number;
  /**
   * Starts the shutdown's drain: every connection is sent GOAWAY, so calls in flight finish and
   * each client opens a new connection for its next call (elsewhere, or here until `close`), as
   * HTTP clients are told `Connection: close`.
   */
  drain(): void;
  /** Stops listening and waits for the calls in flight (up to SHUTDOWN_GRACE_MS, then cuts them off). */
  close(): Promise<void>;
}

/**
 * The RateLimitService definition, read from our proto files, whose request decoder also names
 * the first string that is not UTF-8 (which protobuf.js would read as U+FFFD), or says the bytes
 * cannot be read as protobuf.js reads them (requestText.ts): planDecision refuses such a request.
 */
export function rateLimitServiceDefinition(): ServiceDefinition {
  const definition = loadSync(RLS_PROTO, PROTO_LOADER_OPTIONS)[RLS_SERVICE] as ServiceDefinition;
  const method = definition["ShouldRateLimit"]!;
  const decode = method.requestDeserialize;
  return {
    ShouldRateLimit: {
      ...method,
      requestDeserialize: (bytes: Buffer): RateLimitRequestMessage => {
        const request = decode(bytes) as RateLimitRequestMessage;
        const problem = requestTextProblem(bytes);
        return problem === undefined ? request : { ...request, [TEXT_PROBLEM]: problem };
      },
    },
  };
}

/** What reflection describes: the rate-limit service and the health service, from the same proto files they are served from. */
function reflection(): ReflectionService {
  const files = loadSync([RLS_PROTO, HEALTH_PROTO], { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_ROOT, HEALTH_PROTO_ROOT] });
  return new ReflectionService(files, { services: [RLS_SERVICE, HEALTH_SERVICE] });
}

export async function startRateLimitGrpcServer({ host, port, policies, authenticate, tokenSettings, store, logger, shedder, ready, observer }: RateLimitGrpcOptions): Promise<RunningRateLimitGrpc> {
  const log = logger.child({ plane: "envoy-rls" });
  const server = new Server({ "grpc.max_receive_message_length": MAX_MESSAGE_BYTES });

  /** The refusal of a caller who may not ask about `domain`, and why; undefined when it may. */
  function refusal(metadata: Metadata, domain: string): { readonly code: status; readonly details: string; readonly reason: TokenFailure } | undefined {
    const settings = tokenSettings();
    const [authorization] = metadata.get("authorization");
    if (authorization === undefined) {
      return settings.grpc === "required" ? { code: status.UNAUTHENTICATED, details: "send a service token as authorization: Bearer <token> metadata (serviceTokens.grpc is required)", reason: "missing" } : undefined;
    }
    const caller = typeof authorization === "string" ? authenticate(authorization) : undefined;
    if (caller === undefined) return { code: status.UNAUTHENTICATED, details: "the authorization metadata holds no token Sluice knows (made up, revoked or expired)", reason: "unknown" };
    if (!caller.rights.includes("decide")) return { code: status.PERMISSION_DENIED, details: 'this needs a token with the "decide" right', reason: "no_right" };
    const outOfScope = domainOutOfScope(caller, domain, settings.requireScope);
    return outOfScope === undefined ? undefined : { code: status.PERMISSION_DENIED, details: outOfScope, reason: "out_of_scope" };
  }

  /** The call's callback, telling the observer the code and the time taken first. */
  function observed(callback: sendUnaryData<RateLimitResponseMessage>): sendUnaryData<RateLimitResponseMessage> {
    if (observer === undefined) return callback;
    const started = performance.now();
    return (error, value) => {
      observer.answered("grpc", error === null ? "OK" : status[error.code ?? status.UNKNOWN] ?? "UNKNOWN", (performance.now() - started) / 1000);
      callback(error, value);
    };
  }

  function shouldRateLimit(call: ServerUnaryCall<RateLimitRequestMessage, RateLimitResponseMessage>, answer: sendUnaryData<RateLimitResponseMessage>): void {
    const callback = observed(answer);
    // Before anything is counted: Envoy applies its failure_mode_deny, and nothing was charged.
    const overloaded = shedder?.shed("grpc");
    if (overloaded !== undefined) {
      callback({ code: status.UNAVAILABLE, details: `Sluice is overloaded: ${overloaded}` });
      return;
    }
    // Before the request is read: a stranger learns nothing of which domains exist.
    const refused = refusal(call.metadata, call.request.domain ?? "");
    if (refused !== undefined) {
      observer?.tokenRefused("grpc", refused.reason);
      callback({ code: refused.code, details: refused.details });
      return;
    }
    let plan;
    try {
      plan = planDecision(policies(), call.request);
    } catch (error) {
      if (error instanceof InvalidRateLimitRequest) {
        callback({ code: error.unknownDomain ? status.NOT_FOUND : status.INVALID_ARGUMENT, details: error.message });
      } else {
        log.error({ err: error }, "an Envoy rate-limit request failed");
        callback({ code: status.INTERNAL, details: "an unexpected error occurred" });
      }
      return;
    }
    if (plan.checks.length === 0) {
      callback(null, responseFor(plan, undefined));
      return;
    }
    // A synchronous store (memory) answers without a promise, as in the gateway's limit stage.
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = store.consume(plan.checks);
    } catch (error) {
      unavailable(error, callback);
      return;
    }
    if (verdict instanceof Promise) verdict.then((v) => respond(plan, v, callback), (error: unknown) => unavailable(error, callback));
    else respond(plan, verdict, callback);
  }

  function respond(plan: PlannedDecision, verdict: Verdict, callback: sendUnaryData<RateLimitResponseMessage>): void {
    observer?.decided("grpc", plan.checks.map(() => plan.subject), plan.checks, verdict);
    // The over-limit cache names only the denials it remembers: read every check's state for its status.
    if (verdict.via !== "over-limit-cache" || plan.checks.length === 1) {
      callback(null, responseFor(plan, verdict));
      return;
    }
    Promise.resolve(store.consume(plan.checks.map((c) => ({ ...c, cost: 0 }))))
      .then((state) => callback(null, responseFor(plan, verdict, state)), (error: unknown) => unavailable(error, callback));
  }

  function unavailable(error: unknown, callback: sendUnaryData<RateLimitResponseMessage>): void {
    log.warn({ err: error }, "the limiter store failed to decide an Envoy rate-limit request");
    callback({ code: status.UNAVAILABLE, details: "the rate limiter's store could not decide" });
  }

  server.addService(rateLimitServiceDefinition(), { ShouldRateLimit: shouldRateLimit });
  const health = grpcHealth({ services: [RLS_SERVICE], ready, onError: (error) => log.warn({ err: error }, "could not read readiness for the gRPC health service; it says NOT_SERVING") });
  health.addTo(server);
  reflection().addToServer(server);
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const address = `${hostPart}:${port}`;
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  log.info({ address: `${host}:${boundPort}` }, "Envoy rate-limit service (gRPC) is listening");

  return {
    port: boundPort,
    drain: () => {
      health.drain();
      server.drain(`${hostPart}:${boundPort}`, SHUTDOWN_GRACE_MS);
    },
    close: () => new Promise<void>((resolve) => {
      health.close();
      const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }),
  };
}
