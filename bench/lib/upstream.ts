/**
 * The two processes the gateway bench starts beside the gateways: the cheap upstream every target
 * forwards to (bench/baselines/fixedUpstream.ts), and the reference floor
 * (`../shared/bench/floor.mjs`, outside the project: run from the project root, never copied in).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, start, type Child } from "./children.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const UPSTREAM = join(ROOT, "bench/baselines/fixedUpstream.ts");
/** The reference floor: node:http, a Set of keys, a synchronous GCRA on a Map, undici Pool.request. */
export const FLOOR = join(ROOT, "../shared/bench/floor.mjs");
export const hasFloor: boolean = existsSync(FLOOR);

/** The fixed-body upstream on `core`; resolves with its origin. */
export function startFixedUpstream(core: number | undefined, timeoutMs: number): Promise<{ child: Child; match: string }> {
  return start({ name: "upstream", args: ["--import", "tsx", UPSTREAM], core, env: { PORT: "0" }, ready: /is ready at (http:\/\/\S+)/, timeoutMs });
}

/**
 * The floor, from the project root (it resolves undici from the project's node_modules), with the
 * keys of `keysFile` and its default limit (10⁹ per 60 s: checked on every request, never refusing).
 * It cannot say which port port 0 gave it, so it gets one found free just before.
 */
export async function startFloor(upstreamUrl: string, keysFile: string, core: number | undefined, timeoutMs: number, nodeArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ child: Child; match: string }> {
  const port = await freePort();
  const { child } = await start({
    name: "floor",
    args: [...nodeArgs, FLOOR],
    cwd: ROOT,
    core,
    env: { PORT: String(port), UPSTREAM_URL: upstreamUrl, API_KEYS_FILE: keysFile, ...env },
    ready: /floor listening on (\S+)/,
    timeoutMs,
  });
  return { child, match: `http://127.0.0.1:${port}` };
}
