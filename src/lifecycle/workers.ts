/**
 * `sluice start --workers N`: a primary process that runs N gateway workers (node:cluster) on one
 * port and keeps them running. The primary serves no requests and holds no limiter state; each
 * worker is a whole Sluice (startCommand) that counts in the shared Redis, which is why more than
 * one worker needs a shared store (docs/operations.md#workers).
 *
 * - Start: the primary says "ready" once every worker has said so; a worker that fails before
 *   its first "ready" stops them all, and the primary exits with that worker's code.
 * - Crash: a worker that dies is replaced, after 1 s, or longer (doubling up to 30 s) while
 *   replacements keep dying within 10 s of starting, so a broken host does not spin.
 * - SIGHUP or a changed config file: every worker reloads the file (each logs the outcome).
 * - SIGTERM/SIGINT: every worker drains (its own shutdown, deadline included); the primary exits
 *   0 once all have exited 0. A second signal kills the workers and exits 1 at once.
 *
 * Workers hear from the primary over the cluster's IPC channel (WORKER_MESSAGES), and stop when
 * that channel closes, so a primary killed with SIGKILL leaves no gateway behind.
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "../observability/logger.js";
import { watchConfigFile } from "./configWatcher.js";

export const WORKER_MESSAGES = { shutdown: "sluice:shutdown", reload: "sluice:reload" } as const;

/** What a worker sends the primary once it listens. */
export interface WorkerReady {
  readonly sluice: "ready";
  readonly url: string;
  /** host:port of its gRPC rate-limit service, when `server.grpcPort` is set. */
  readonly grpc?: string | undefined;
}

export interface PrimaryOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** The config file, watched for changes (SIGHUP reloads it too). */
  readonly configFile: string;
  /** Called once, when every first worker listens. */
  readonly onReady: (url: string, grpc: string | undefined) => void;
}

const RESTART_MS = 1_000;
const MAX_RESTART_MS = 30_000;
const SHORT_LIFE_MS = 10_000;

/** Runs the workers until they have all stopped; resolves with the exit code for the primary. */
export async function runPrimary({ workers: count, logger, configFile, onReady }: PrimaryOptions): Promise<number> {
  const live = new Set<Worker>();
  const forkedAt = new Map<Worker, number>();
  const ready = new Set<Worker>();
  let started = false;
  let stopping = false;
  /** Set by the first worker that failed to start, or to 1 by one that stopped badly. */
  let exitCode: number | undefined;
  let restartMs = RESTART_MS;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const tell = (message: string) => {
    for (const worker of live) if (worker.isConnected()) worker.send(message);
  };
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why, workers: live.size }, "stopping the workers: each drains its requests");
    tell(WORKER_MESSAGES.shutdown);
    if (live.size === 0) finish(exitCode ?? 0);
  };
  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    forkedAt.set(worker, Date.now());
    worker.on("message", (message: unknown) => {
      if ((message as Partial<WorkerReady> | null)?.sluice !== "ready" || ready.has(worker)) return;
      ready.add(worker);
      if (!started && ready.size === count) {
        started = true;
        logger.info({ workers: count }, "every worker is listening");
        onReady((message as WorkerReady).url, (message as WorkerReady).grpc);
      }
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    live.delete(worker);
    ready.delete(worker);
    const lived = Date.now() - (forkedAt.get(worker) ?? 0);
    forkedAt.delete(worker);
    if (!stopping && started) {
      restartMs = lived < SHORT_LIFE_MS ? Math.min(restartMs * 2, MAX_RESTART_MS) : RESTART_MS;
      logger.error({ pid: worker.process.pid, code, signal, restartInMs: restartMs }, "a worker died: starting another");
      setTimeout(() => {
        if (!stopping) fork();
      }, restartMs).unref();
      return;
    }
    if (!stopping) {
      // Its own code says why (2: invalid configuration), so the primary exits with it.
      exitCode = code ?? 1;
      logger.error({ pid: worker.process.pid, code, signal }, "a worker failed while starting: stopping the others");
      stop("a worker failed to start");
    } else {
      if (code !== 0) exitCode ??= 1;
      logger.info({ pid: worker.process.pid, code, signal }, "worker stopped");
    }
    if (live.size === 0) finish(exitCode ?? 0);
  });

  const reloadAll = (why: string) => {
    logger.info({ why }, "asking every worker to reload the configuration");
    tell(WORKER_MESSAGES.reload);
  };
  const watcher = await watchConfigFile(configFile, () => reloadAll("the config file changed"), { logger });
  process.on("SIGHUP", () => reloadAll("SIGHUP"));
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) return stop(signal);
    for (const worker of live) worker.process.kill("SIGKILL");
    process.exit(1);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  for (let i = 0; i < count; i++) fork();
  const code = await finished;
  watcher.close();
  return code;
}
