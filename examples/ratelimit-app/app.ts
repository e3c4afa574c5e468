/**
 * A small Express application that limits its own routes through Sluice's rate-limit service
 * (README.md beside this file runs it): 5 greetings a minute per client address, stated here, and
 * the operator's "emails" policy per user, named here and defined in Sluice's config.
 *
 * Run: SLUICE_TOKEN=dev-admin-token node --import tsx examples/ratelimit-app/app.ts
 */
import express, { type Request } from "express";
import { RateLimitClient } from "sluice/client";
import { rateLimit } from "sluice/express";

const sluiceUrl = process.env["SLUICE_URL"] ?? "http://127.0.0.1:8080";
const token = process.env["SLUICE_TOKEN"];
if (token === undefined || token === "") throw new Error("set SLUICE_TOKEN to a service token (or Sluice's SLUICE_ADMIN_TOKEN)");
const port = Number(process.env["PORT"] ?? 3000);

// One client for the whole app: it keeps the connections to Sluice open. When Sluice does not
// answer within 100 ms, greetings go on (open) and emails wait (each route picks its client).
const limiter = new RateLimitClient({ url: sluiceUrl, token, timeoutMs: 100, failurePolicy: "open" });
const strictLimiter = new RateLimitClient({ url: sluiceUrl, token, timeoutMs: 100, failurePolicy: "closed" });

const app = express();

app.get("/hello",
  rateLimit({ client: limiter, identifier: (req) => req.ip, limit: 5, duration: "1m", namespace: "hello" }),
  (_req, res) => {
    res.json({ message: "hello" });
  });

app.post("/emails",
  rateLimit({ client: strictLimiter, identifier: (req: Request) => req.get("x-user-id"), policy: "emails" }),
  (req, res) => {
    res.status(202).json({ queued: true, for: req.get("x-user-id") ?? "anonymous" });
  });

const server = app.listen(port, "127.0.0.1", () => {
  process.stdout.write(`example app on http://127.0.0.1:${port}, limited by Sluice at ${sluiceUrl}\n`);
});

process.once("SIGINT", () => {
  server.close();
  void Promise.all([limiter.close(), strictLimiter.close()]);
});
