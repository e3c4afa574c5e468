/**
 * A private redis-server for tests that need one of their own: fault tests that take Redis down
 * and bring it back, and the Cluster harness (redisCluster.ts), which runs three of these. Each
 * server gets a free port and a throwaway data directory, keeps nothing on disk, and is killed
 * when the test process ends, so the shared Redis on 127.0.0.1:6379 is never touched and no
 * redis-server outlives the tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 5_000;
const EXIT_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 20;
const QUERY_TIMEOUT_MS = 250;
const PORT_ATTEMPTS = 5;
const LOG_LIMIT = 64 * 1024;
/** Redis Cluster's bus listens on the client port plus this. */
const CLUSTER_BUS_OFFSET = 10_000;

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGTERM the server and wait for it to exit: Redis is down until start(). */
  stop(): Promise<void>;
  /** Start the server again, on the same port, and wait until it answers PING. */
  start(): Promise<void>;
  /** Stop the server if it runs, and remove its data directory. */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** More redis-server options, appended after the harness's own. */
  readonly extraArgs?: readonly string[];
  /** Pick a port whose cluster-bus twin (port + 10000) is free as well. */
  readonly withClusterBus?: boolean;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  installExitCleanup();
  const dir = await mkdtemp(join(tmpdir(), "sluice-redis-"));
  dataDirs.add(dir);
  try {
    return await launchOnFreePort(dir, options);
  } catch (error) {
    await removeDataDir(dir);
    throw error;
  }
}

/**
 * Sends one command over a fresh connection and returns the reply (simple string, bulk string or
 * integer, as text; null for a nil bulk). Rejects on an error reply, a closed connection or after
 * timeoutMs. Deliberately independent of ioredis, so the harness never relies on the client under test.
 */
export function queryRedis(port: number, command: readonly string[], timeoutMs = QUERY_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let received = Buffer.alloc(0);
    const finish = (settle: () => void) => {
      socket.destroy();
      settle();
    };
    socket.setTimeout(timeoutMs, () => finish(() => reject(new Error(`no reply from port ${port} in ${timeoutMs} ms`))));
    socket.on("error", (error) => finish(() => reject(error)));
    socket.on("close", () => reject(new Error(`port ${port} closed the connection`)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const reply = parseReply(received);
      if (reply === undefined) return;
      finish(() => ("error" in reply ? reject(new Error(reply.error)) : resolve(reply.value)));
    });
    socket.write(encodeCommand(command));
  });
}

class PrivateRedisServer implements RedisServer {
  readonly url: string;
  private child: ChildProcess | undefined;
  private alive = false;
  private exited: Promise<void> = Promise.resolve();
  private log = "";

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  async start(): Promise<void> {
    if (this.alive) return;
    this.spawn();
    const outcome = await waitUntil(() => isAnsweringPing(this.port), READY_TIMEOUT_MS, () => !this.alive);
    if (outcome === "ready") return;
    await this.stop();
    throw new RedisStartError(`redis-server on port ${this.port} ${outcome === "gave up" ? "exited" : "did not answer PING"} while starting`, this.log);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.alive) return;
    child.ref(); // keep the test process alive while it waits for the exit
    child.kill("SIGTERM");
    await withTimeout(this.exited, EXIT_TIMEOUT_MS, () => new RedisStartError(`redis-server on port ${this.port} ignored SIGTERM`, this.log));
  }

  async close(): Promise<void> {
    await this.stop();
    await removeDataDir(this.dir);
  }

  private spawn(): void {
    const args = ["--port", String(this.port), "--bind", HOST, "--dir", this.dir, "--save", "", "--appendonly", "no", "--daemonize", "no", ...this.extraArgs];
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    liveChildren.add(child);
    this.alive = true;
    this.exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", (error) => {
        this.appendLog(`could not run redis-server: ${error.message}\n`);
        resolve();
      });
    }).then(() => {
      this.alive = false;
      liveChildren.delete(child);
    });
    child.stdout?.on("data", (chunk: Buffer) => this.appendLog(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => this.appendLog(chunk.toString()));
    unrefChild(child);
  }

  private appendLog(text: string): void {
    this.log = (this.log + text).slice(-LOG_LIMIT);
  }
}

class RedisStartError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(`${message}; its log:\n${log.slice(-4096)}`);
  }
}

async function launchOnFreePort(dir: string, options: RedisServerOptions): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(options.withClusterBus ?? false);
    const server = new PrivateRedisServer(port, dir, options.extraArgs ?? []);
    try {
      await server.start();
      return server;
    } catch (error) {
      // Another process may have taken the port between our probe and redis-server's bind.
      const portTaken = error instanceof RedisStartError && error.log.includes("Address already in use");
      if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

async function freePort(withClusterBus: boolean): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probeFreePort(0);
    if (!withClusterBus) return port;
    const busPort = port + CLUSTER_BUS_OFFSET;
    if (busPort <= 65_535 && (await probeFreePort(busPort).then(() => true, () => false))) return port;
  }
  throw new Error("found no free port for a private redis-server");
}

/** Listens on the port (0: any) and closes again, returning the port that was bound. */
function probeFreePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(port, HOST, () => {
      const bound = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(bound));
    });
  });
}

/** Polls `ready` every few milliseconds until it holds, `gaveUp` holds, or the time runs out. */
export async function waitUntil(ready: () => Promise<boolean>, timeoutMs: number, gaveUp = () => false): Promise<"ready" | "gave up" | "timeout"> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp()) return "gave up";
    if (await ready()) return "ready";
    await delay(POLL_INTERVAL_MS);
  }
  return "timeout";
}

function isAnsweringPing(port: number): Promise<boolean> {
  return queryRedis(port, ["PING"]).then(
    (reply) => reply === "PONG",
    () => false,
  );
}

async function withTimeout(promise: Promise<void>, timeoutMs: number, timeoutError: () => Error): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), timeoutMs);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function encodeCommand(command: readonly string[]): string {
  return `*${command.length}\r\n${command.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`;
}

type Reply = { value: string | null } | { error: string };

/** Parses one RESP2 reply that is not an array; undefined while it is still incomplete. */
function parseReply(data: Buffer): Reply | undefined {
  const lineEnd = data.indexOf("\r\n");
  if (lineEnd < 0) return undefined;
  const line = data.subarray(1, lineEnd).toString();
  switch (String.fromCharCode(data[0] ?? 0)) {
    case "+":
    case ":":
      return { value: line };
    case "-":
      return { error: line };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null };
      const end = lineEnd + 2 + length;
      return data.length < end + 2 ? undefined : { value: data.subarray(lineEnd + 2, end).toString() };
    }
    default:
      return { error: `unsupported reply: ${line}` };
  }
}

// Everything below makes sure no redis-server or data directory outlives the test process, even
// when a test forgets close() or the process is interrupted.
const liveChildren = new Set<ChildProcess>();
const dataDirs = new Set<string>();
let exitCleanupInstalled = false;

function installExitCleanup(): void {
  if (exitCleanupInstalled) return;
  exitCleanupInstalled = true;
  process.on("exit", cleanUpNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanUpNow();
      // Die of the signal as we would have without this handler, unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function cleanUpNow(): void {
  for (const child of liveChildren) child.kill("SIGTERM");
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}

async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  dataDirs.delete(dir);
}

/** A forgotten server must not keep the test process alive: the exit cleanup ends it instead. */
function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
}
