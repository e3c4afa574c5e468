/**
 * A private three-node Redis Cluster (masters only) for tests of the Redis store in cluster mode.
 * Each node is a private redis-server from redisServer.ts; redis-cli joins them and splits the
 * slots, and the cluster is handed over only once every node reports cluster_state:ok.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { queryRedis, startRedisServer, waitUntil, type RedisServer } from "./redisServer.js";

const NODE_COUNT = 3;
const CREATE_TIMEOUT_MS = 30_000;
const STATE_OK_TIMEOUT_MS = 10_000;
const CLUSTER_ARGS = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"];

const execFileAsync = promisify(execFile);

export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** Stops every node and removes their data directories. */
  close(): Promise<void>;
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const servers = await startNodes();
  const close = async () => {
    await Promise.all(servers.map((server) => server.close()));
  };
  try {
    await createCluster(servers);
    await waitForStateOk(servers);
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes: servers.map((server) => ({ host: "127.0.0.1", port: server.port })), close };
}

/** Starts the nodes together; if any fails, the others are closed before the error is thrown. */
async function startNodes(): Promise<RedisServer[]> {
  const starts = Array.from({ length: NODE_COUNT }, () => startRedisServer({ extraArgs: CLUSTER_ARGS, withClusterBus: true }));
  const results = await Promise.allSettled(starts);
  const started = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failure = results.find((result) => result.status === "rejected");
  if (failure === undefined) return started;
  await Promise.all(started.map((server) => server.close()));
  throw failure.reason;
}

async function createCluster(servers: readonly RedisServer[]): Promise<void> {
  const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
  const args = ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"];
  try {
    await execFileAsync("redis-cli", args, { timeout: CREATE_TIMEOUT_MS });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`redis-cli --cluster create failed: ${String(error)}\n${stdout}${stderr}`);
  }
}

async function waitForStateOk(servers: readonly RedisServer[]): Promise<void> {
  const outcomes = await Promise.all(servers.map((server) => waitUntil(() => reportsStateOk(server.port), STATE_OK_TIMEOUT_MS)));
  const notOk = servers.filter((_, i) => outcomes[i] !== "ready").map((server) => server.port);
  if (notOk.length > 0) throw new Error(`cluster nodes on ports ${notOk.join(", ")} never reported cluster_state:ok`);
}

function reportsStateOk(port: number): Promise<boolean> {
  return queryRedis(port, ["CLUSTER", "INFO"]).then(
    (info) => info?.includes("cluster_state:ok") ?? false,
    () => false,
  );
}
