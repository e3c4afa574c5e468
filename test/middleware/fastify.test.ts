// The Fastify hook and plugin (src/middleware/fastify.ts) run the middlewares' common suite: a
// Fastify application with one limited route per case, against a running Sluice. Half the routes
// take the hook as a route option (a stack: a list of hooks), half the plugin in a context of
// their own (a stack: the plugin for the first limit and hooks for the rest, as in
// docs/ratelimit-service.md's /search).
import Fastify from "fastify";
import { rateLimitHook, sluiceRateLimit } from "../../src/middleware/fastify.js";
import { runMiddlewareCases } from "./middlewareCases.js";

runMiddlewareCases("Fastify", async (limits) => {
  const app = Fastify();
  Object.entries(limits).forEach(([name, options], i) => {
    const handler = () => ({ route: name });
    const [first, ...rest] = [options].flat();
    if (i % 2 === 0) {
      app.get(`/${name}`, { onRequest: [first!, ...rest].map((o) => rateLimitHook(o)) }, handler);
      return;
    }
    void app.register(async (scoped) => {
      await scoped.register(sluiceRateLimit, first!);
      scoped.get(`/${name}`, { onRequest: rest.map((o) => rateLimitHook(o)) }, handler);
    });
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url, close: () => app.close() };
});
