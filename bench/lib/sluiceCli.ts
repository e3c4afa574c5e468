/**
 * The built Sluice CLI (dist/, so `npm run build` first) as a bench child: the gateway or the
 * rate-limit service from a config file. Every bench
 * that starts Sluice starts it here, so they all run it the same way: its own embedded accounts
 * database (one process per data directory), warnings only, no Redis unless the caller gives one.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { start, type Child } from "./children.js";

export const CLI = join(dirname(fileURLToPath(import.meta.url)), "../../dist/cli/sluice.js");
/** Start-up on a busy machine: the embedded database's first initdb takes seconds. */
export const READY_TIMEOUT_MS = 90_000;

export interface SluiceChildOptions {
  readonly name: string;
  /** Where the config (`<name>.yaml`) and the data directory (`<name>-data`) go. */
  readonly dir: string;
  readonly config: string;
  readonly core: number | undefined;
  /** Over LOG_LEVEL=warn, SLUICE_DATA_DIR and REDIS_URL="" (no Redis). */
  readonly env?: NodeJS.ProcessEnv;
  /** Node options before the CLI, e.g. the profiler's. */
  readonly nodeArgs?: readonly string[];
  /** After `start --config <file>`, e.g. --no-demo. */
  readonly cliArgs?: readonly string[];
}

/** `sluice start` with `config`; resolves with the URL of its ready line. */
export function startSluice(options: SluiceChildOptions): Promise<{ child: Child; match: string }> {
  const configFile = join(options.dir, `${options.name}.yaml`);
  writeFileSync(configFile, options.config);
  return start({
    name: options.name,
    args: [...(options.nodeArgs ?? []), CLI, "start", "--config", configFile, ...(options.cliArgs ?? [])],
    core: options.core,
    env: { LOG_LEVEL: "warn", SLUICE_DATA_DIR: join(options.dir, `${options.name}-data`), REDIS_URL: "", ...options.env },
    ready: /Sluice is ready at (http:\/\/\S+)/,
    timeoutMs: READY_TIMEOUT_MS,
  });
}
