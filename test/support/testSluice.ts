/**
 * Starts a real Sluice (gateway, control plane, and the demo services its config names) on a
 * free port, configured from a YAML string, with a manual clock and silent logs.
 */
import { parseConfig } from "../../src/config/loader.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice, type SluiceOptions } from "../../src/sluice.js";
import { ManualClock } from "./manualClock.js";

export interface TestSluice extends RunningSluice {
  readonly clock: ManualClock;
  /** GET (or any method) on the gateway with the given API key. */
  call(path: string, init?: RequestInit & { key?: string | undefined }): Promise<Response>;
}

export async function startTestSluice(yaml: string, options: Pick<SluiceOptions, "accounts" | "adminToken"> & { readonly clock?: ManualClock } = {}): Promise<TestSluice> {
  const config = parseConfig(yaml, "test.yaml");
  const clock = options.clock ?? new ManualClock();
  const sluice = await startSluice({
    config: { ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } },
    clock: clock.read,
    logger: createLogger("silent"),
    accounts: options.accounts,
    adminToken: options.adminToken,
  });
  return {
    ...sluice,
    clock,
    call: (path, { key, headers, ...init } = {}) =>
      fetch(sluice.url + path, { ...init, headers: { ...(key !== undefined && { "x-api-key": key }), ...(headers as Record<string, string> | undefined) } }),
  };
}

/** The demo config of examples/sluice.yaml, inline so the tests state what they rely on. */
export const DEMO_YAML = `
limits:
  per-client: { algorithm: sliding-window-log, limit: 5, window: 30s, by: [consumer] }
  random-per-minute: { algorithm: fixed-window, limit: 5, window: 1m, by: [consumer] }
defaults:
  limits: [per-client]
services:
  users: { upstream: "demo://users" }
  recommend: { upstream: "demo://recommendations" }
  random: { upstream: "demo://random-number", limits: [random-per-minute] }
consumers:
  demo: { keys: [secret-key] }
  other: { keys: [other-secret-key] }
`;
