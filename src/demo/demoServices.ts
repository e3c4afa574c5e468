/**
 * Starts the demo backends as real HTTP servers on their own ports (free ones by default, so
 * several Sluice instances can run on one host). Config refers to them as `demo://<name>`.
 */
import type { FastifyInstance } from "fastify";
import { DEMO_SERVICE_NAMES, type DemoServiceName } from "../config/demoNames.js";
import { createRandomNumberService } from "./randomNumberService.js";
import { createRecommendationsService } from "./recommendationsService.js";
import { createUsersService } from "./usersService.js";

export { DEMO_SERVICE_NAMES, type DemoServiceName };

const DEMO_SERVICES: Record<DemoServiceName, () => Promise<FastifyInstance>> = {
  "users": createUsersService,
  "recommendations": createRecommendationsService,
  "random-number": createRandomNumberService,
};

export interface RunningDemo {
  /** Base URL of each running demo service, e.g. users → http://127.0.0.1:40123 */
  readonly urls: ReadonlyMap<DemoServiceName, string>;
  close(): Promise<void>;
}

export async function startDemoServices(
  names: readonly DemoServiceName[] = DEMO_SERVICE_NAMES,
  options: { host?: string; ports?: Partial<Record<DemoServiceName, number>> } = {},
): Promise<RunningDemo> {
  const apps: FastifyInstance[] = [];
  const urls = new Map<DemoServiceName, string>();
  try {
    for (const name of names) {
      const app = await DEMO_SERVICES[name]();
      apps.push(app);
      await app.listen({ host: options.host ?? "127.0.0.1", port: options.ports?.[name] ?? 0 });
      const address = app.server.address();
      if (address === null || typeof address === "string") throw new Error(`demo service ${name} has no TCP address`);
      urls.set(name, `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`);
    }
  } catch (error) {
    await Promise.all(apps.map((app) => app.close()));
    throw error;
  }
  return { urls, close: async () => void (await Promise.all(apps.map((app) => app.close()))) };
}
