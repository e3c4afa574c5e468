// The Express middleware (src/middleware/express.ts) runs the middlewares' common suite: an
// Express 5 application with one limited route per case (a stack: one middleware per limit, in
// order), against a running Sluice.
import type { AddressInfo } from "node:net";
import express from "express";
import { rateLimit } from "../../src/middleware/express.js";
import { runMiddlewareCases } from "./middlewareCases.js";

runMiddlewareCases("Express", async (limits) => {
  const app = express();
  for (const [name, options] of Object.entries(limits)) {
    app.get(`/${name}`, [options].flat().map((o) => rateLimit(o)), (_req: express.Request, res: express.Response) => {
      res.json({ route: name });
    });
  }
  // The application's own error handler, quiet (Express's default prints the error to stderr).
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: "internal" });
  });
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
});
