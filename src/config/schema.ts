/**
 * The configuration schema: the single source of truth for the YAML file. Types come from it
 * (`SluiceConfig`), the loader validates with it, and `npm run schema` publishes it as JSON Schema
 * (schema/sluice.config.schema.json) for editors. docs/config.md documents every field.
 */
import { z } from "zod";
import { apiKeyDigest } from "../accounts/apiKeyDigest.js";
import { DEMO_SERVICE_NAMES } from "../demo/names.js";
import { isTrustEntry } from "../gateway/clientAddress.js";
import { ALGORITHM_NAMES, FAILURE_MODES } from "../limiter/policy.js";
import { DURATION_PATTERN, parseDuration } from "./duration.js";

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
  error: "use 1–63 lower-case letters, digits, '-' or '_', starting with a letter or digit",
});

const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'write a positive duration with a unit, e.g. "500ms", "30s", "1m", "2h", "1d"' })
  .transform(parseDuration);

const keyPart = z.union([
  z.enum(["consumer", "ip", "service", "route", "plan", "global"]),
  z.string().regex(/^header:[a-z0-9-]+$/, { error: 'a header key part is "header:<lower-case header name>"' }),
  z.string().regex(/^param:[a-z_][a-z0-9_]*$/, { error: 'a path parameter key part is "param:<name>", naming a ":<name>" segment of the route' }),
]).describe("What the limit counts by: consumer, ip, service, route, plan, global, header:<name> or param:<name>.");

/** Fields that belong to one algorithm only: [field, algorithm]. */
const ALGORITHM_FIELDS = [["burst", "gcra"], ["capacity", "token-bucket"], ["align", "fixed-window"]] as const;

const limit = z.strictObject({
  algorithm: z.enum(ALGORITHM_NAMES).default("gcra").describe("How the limit is counted; see docs/algorithms.md."),
  limit: z.number().int().positive().describe("Units admitted per window; for concurrency, units in flight at once."),
  window: duration.optional().describe('The window, e.g. "30s"; for concurrency, how long an unreleased lease lives (default "1m").'),
  burst: z.number().int().positive().optional().describe("gcra only: units that may arrive at once; defaults to limit."),
  capacity: z.number().int().positive().optional().describe("token-bucket only (required): tokens the bucket holds; limit tokens refill per window."),
  align: z.enum(["first-request", "clock"]).optional().describe("fixed-window only: windows start at each key's first request (default) or at multiples of the window since the epoch."),
  by: z.array(keyPart).min(1).default(["consumer"]).describe("The parts of the counter's key; one counter per distinct combination."),
  shadow: z.boolean().default(false).describe("Decide and report, but never refuse: to watch a new limit before enforcing it."),
  onStoreFailure: z.enum(FAILURE_MODES).default("open").describe("When Redis cannot answer in time: open (admit), closed (503), local (an in-process limiter)."),
}).superRefine((l, ctx) => {
  for (const [field, algorithm] of ALGORITHM_FIELDS) {
    if (l[field] !== undefined && l.algorithm !== algorithm) ctx.addIssue({ code: "custom", path: [field], message: `${field} applies to the ${algorithm} algorithm only` });
  }
  if (l.algorithm === "token-bucket" && l.capacity === undefined) ctx.addIssue({ code: "custom", path: ["capacity"], message: "a token-bucket limit needs a capacity (tokens the bucket holds)" });
  if (l.algorithm !== "concurrency" && l.window === undefined) ctx.addIssue({ code: "custom", path: ["window"], message: 'required field is missing (a duration such as "30s")' });
});

const limitRefs = z.array(name).describe("Names of limits defined under `limits`.");

const upstream = z.union([
  z.string().regex(new RegExp(`^demo://(${DEMO_SERVICE_NAMES.join("|")})$`)),
  z.url({ protocol: /^https?$/ }).refine((value) => !/[?#]/.test(value)),
], { error: `an upstream is an http(s) URL without query or fragment, such as "http://127.0.0.1:9000/base", or a built-in demo service: ${DEMO_SERVICE_NAMES.map((n) => `demo://${n}`).join(", ")}` });

const httpMethod = z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const route = z.strictObject({
  path: z.string().regex(/^\/[^?#]*$/, { error: 'a route path starts with "/"; end it with "/*" to match everything below it' })
    .describe('Path under the service: exact ("/number"), with ":name" segments that match any one segment ("/users/:id"), or a prefix ending in "/*" ("/users/*").'),
  cost: z.number().int().positive().default(1).describe("Units each request of this route takes from its limits."),
  methods: z.array(httpMethod).min(1).optional().describe("Methods the route accepts; all when omitted."),
  limits: limitRefs.optional().describe("Limits for this route, applied instead of the service's."),
});

const service = z.strictObject({
  upstream: upstream.describe("Where requests are proxied: base URL of the backend."),
  description: z.string().optional(),
  limits: limitRefs.optional().describe("Limits for every request to this service; `defaults.limits` when omitted."),
  routes: z.array(route).min(1).optional().describe("When given, only these paths are routed; others answer 404."),
  openapi: z.union([z.string().regex(/^\//), z.literal(false)], { error: 'the path of the upstream\'s OpenAPI document, starting with "/", or false' }).default("/openapi.json")
    .describe("Path of the upstream's OpenAPI document, merged into /docs; false to leave it out."),
  timeout: duration.prefault("30s").describe("Longest wait for the upstream's response headers."),
});

const apiKey = z.union([
  z.string().regex(/^sha256:[0-9a-f]{64}$/),
  z.string().min(8).regex(/^(?!sha256:)/),
], { error: 'an API key is at least 8 characters, or "sha256:" followed by the 64 lower-case hex digits of its SHA-256' });

const consumer = z.strictObject({
  keys: z.array(apiKey).min(1).describe('API keys of this consumer: plaintext (demo only) or "sha256:<hex>".'),
  plan: name.optional().describe('The consumer\'s plan, for limits counted "by: [plan]".'),
  scopes: z.array(name).min(1).optional().describe("Services the consumer's keys may call; all when omitted."),
  description: z.string().optional(),
});

export const configSchema = z
  .strictObject({
    server: z.strictObject({
      host: z.string().min(1).default("127.0.0.1").describe("Address to listen on; HOST overrides it."),
      port: z.number().int().min(0).max(65535).default(8080).describe("Port to listen on (0: any free port); PORT overrides it."),
      trustedProxies: z.union([
        z.number().int().min(1).max(32),
        z.array(z.string().refine(isTrustEntry, { error: 'not an IP address, a CIDR range (e.g. "10.0.0.0/8") or one of "loopback", "linklocal", "uniquelocal"' })).min(1),
      ], { error: 'trustedProxies is a number of proxy hops (e.g. 1) or a list of addresses and CIDR ranges (e.g. ["10.0.0.0/8", "loopback"])' }).optional()
        .describe("Proxies in front of Sluice whose X-Forwarded-For is believed; none when omitted (the socket address counts)."),
      ipv6Prefix: z.number().int().min(1).max(128).default(64).describe("IPv6 clients are counted by this prefix length, so one client cannot rotate addresses around a limit."),
    }).prefault({}),
    limiter: z.strictObject({
      store: z.enum(["auto", "memory", "redis"]).default("auto").describe("Where limit state lives: redis when REDIS_URL is set (auto), or memory."),
      timeout: duration.prefault("50ms").describe("Longest wait for a Redis decision before the limit's onStoreFailure applies."),
      keyPrefix: z.string().max(64).default("sluice:").describe("Prefix of every Redis key, to share a Redis with other applications."),
      legacyHeaders: z.boolean().default(false).describe("Also send X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset."),
      maxKeys: z.number().int().min(1).default(1_000_000).describe("Most counters the in-process memory store keeps; past it the least recently used are evicted."),
      cluster: z.boolean().default(false)
        .describe("REDIS_URL is a Redis Cluster: one seed node, or several as a comma-separated list (redis://host:port,redis://host:port)."),
    }).prefault({}),
    defaults: z.strictObject({
      limits: limitRefs.default([]).describe("Limits of every service that names none of its own."),
    }).prefault({}),
    limits: z.record(name, limit).default({}).describe("Named limits that services and routes refer to."),
    services: z.record(name, service).default({}).describe("Backends reachable at /api/<service>/<path>."),
    consumers: z.record(name, consumer).default({}).describe("Clients and their API keys."),
  })
  .superRefine((config, ctx) => {
    const known = Object.keys(config.limits);
    const checkRefs = (refs: readonly string[] | undefined, path: (string | number)[]) => {
      refs?.forEach((ref, i) => {
        if (!known.includes(ref)) {
          ctx.addIssue({ code: "custom", path: [...path, i], message: `no limit named "${ref}"; defined limits: ${known.join(", ") || "none"}` });
        }
      });
    };
    checkRefs(config.defaults.limits, ["defaults", "limits"]);
    for (const [serviceName, svc] of Object.entries(config.services)) {
      checkRefs(svc.limits, ["services", serviceName, "limits"]);
      svc.routes?.forEach((r, i) => checkRefs(r.limits, ["services", serviceName, "routes", i, "limits"]));
    }
    for (const [consumerName, c] of Object.entries(config.consumers)) {
      c.scopes?.forEach((scope, i) => {
        if (!(scope in config.services)) ctx.addIssue({ code: "custom", path: ["consumers", consumerName, "scopes", i], message: `no service named "${scope}"` });
      });
    }
    // Compared by digest, so a key written in plaintext in one place and hashed in another is caught.
    const owners = new Map<string, string>();
    for (const [consumerName, c] of Object.entries(config.consumers)) {
      c.keys.forEach((key, i) => {
        const digest = apiKeyDigest(key);
        const owner = owners.get(digest);
        if (owner !== undefined) ctx.addIssue({ code: "custom", path: ["consumers", consumerName, "keys", i], message: `this key already belongs to consumer "${owner}"` });
        owners.set(digest, consumerName);
      });
    }
  });

export type SluiceConfig = z.output<typeof configSchema>;
export type ServiceConfig = SluiceConfig["services"][string];
export type LimitConfig = SluiceConfig["limits"][string];
export type RouteConfig = NonNullable<ServiceConfig["routes"]>[number];

// Plans in the database (src/accounts/plans.ts) hold limits and names of exactly this shape.
export { limit as limitSchema, name as nameSchema };
/** A limit as written (durations as strings, defaults not yet applied); `limitSchema` turns it into a `LimitConfig`. */
export type LimitInput = z.input<typeof limit>;
