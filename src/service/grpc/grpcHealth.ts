/**
 * The standard gRPC health service (`grpc.health.v1.Health`: Check, Watch, List), so Kubernetes'
 * gRPC probes, Envoy's gRPC health checks and grpc_health_probe can ask the rate-limit port
 * whether to send it calls. The protocol and its bookkeeping are grpc-health-check's (gRPC's own
 * package); this module decides what it says.
 *
 * The status follows Sluice's readiness, the one /readyz answers (lifecycle/readiness.ts):
 * SERVING while /readyz says ready, NOT_SERVING while it does not (the instance is shutting down,
 * a limit fails closed while the store is unreachable, the database is unreachable, a service has
 * no target left) and from the shutdown's drain on. Both the server as a whole (`""`) and
 * `envoy.service.ratelimit.v3.RateLimitService` are reported, with the same status.
 *
 * Readiness is a question, not an event, so it is asked when someone wants the answer: before
 * every Check, and every WATCH_REFRESH_MS while a Watch stream is open (its client is told of
 * changes only). Concurrent asks share one readiness check, so a probe storm costs one store peek.
 *
 * @example
 * const health = grpcHealth({ services: [RLS_SERVICE], ready: async () => (await readiness.check()).ready });
 * health.addTo(server);
 * health.drain(); // on SIGTERM: NOT_SERVING from now on
 */
import type { handleServerStreamingCall, handleUnaryCall, Server, ServerWritableStream } from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";

/** How often an open Watch re-reads readiness. */
export const WATCH_REFRESH_MS = 5_000;

/** The health service's own name, for reflection and for callers who ask about it. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

export interface GrpcHealthOptions {
  /** The services reported besides the server as a whole (`""`). */
  readonly services: readonly string[];
  /** Whether the instance is ready (/readyz's answer); always, when undefined. */
  readonly ready?: (() => Promise<boolean>) | undefined;
  /** Told when asking readiness fails (the answer is then NOT_SERVING). */
  readonly onError?: (error: unknown) => void;
}

export interface GrpcHealth {
  addTo(server: Pick<Server, "addService">): void;
  /** NOT_SERVING from now on, told at once to every watcher: the server is about to go away. */
  drain(): void;
  /** Ends every Watch stream (so the server's shutdown need not wait for them) and stops re-reading readiness. */
  close(): void;
}

export function grpcHealth({ services, ready, onError = () => undefined }: GrpcHealthOptions): GrpcHealth {
  const names = ["", ...services];
  const health = new HealthImplementation(Object.fromEntries(names.map((name) => [name, "SERVING"])));
  let draining = false;
  let asking: Promise<void> | undefined;
  const watchers = new Set<ServerWritableStream<unknown, unknown>>();
  let timer: NodeJS.Timeout | undefined;

  let current: ServingStatus = "SERVING";
  // Only a change is set: the package tells every watcher of each setStatus, and Watch promises changes.
  const set = (status: ServingStatus) => {
    if (status === current) return;
    current = status;
    for (const name of names) health.setStatus(name, status);
  };

  /** Asks readiness once for every caller waiting meanwhile. */
  const refresh = (): Promise<void> => {
    if (ready === undefined || draining) return Promise.resolve();
    asking ??= ready()
      .then((isReady) => (draining ? undefined : set(isReady ? "SERVING" : "NOT_SERVING")), (error: unknown) => {
        onError(error);
        set("NOT_SERVING");
      })
      .finally(() => {
        asking = undefined;
      });
    return asking;
  };

  /** Re-reads readiness on a timer while a Watch is open. */
  const watching = () => {
    if (watchers.size > 0 && timer === undefined && ready !== undefined) {
      timer = setInterval(() => void refresh(), WATCH_REFRESH_MS).unref();
    } else if (watchers.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    addTo(server) {
      // The package registers its handlers; each Check and Watch first brings the status up to date.
      health.addToServer({
        addService: (definition, implementation) => {
          const check = implementation["check"] as handleUnaryCall<unknown, unknown>;
          const watch = implementation["watch"] as handleServerStreamingCall<unknown, unknown>;
          const checkWhenKnown: handleUnaryCall<unknown, unknown> = (call, callback) => {
            void refresh().then(() => check(call, callback));
          };
          const watchWhenKnown: handleServerStreamingCall<unknown, unknown> = (call) => {
            watchers.add(call);
            watching();
            call.on("cancelled", () => {
              watchers.delete(call);
              watching();
            });
            void refresh().then(() => {
              if (!call.cancelled) watch(call);
            });
          };
          server.addService(definition, { ...implementation, check: checkWhenKnown, watch: watchWhenKnown });
        },
      });
    },
    drain() {
      draining = true;
      set("NOT_SERVING");
    },
    close() {
      for (const call of watchers) call.end();
      watchers.clear();
      watching();
    },
  };
}
