/**
 * The configuration schema: the single source of truth for the YAML file. Types come from it
 * (`SluiceConfig`), the loader validates with it, and `npm run schema` publishes it as JSON Schema
 * (schema/sluice.config.schema.json) for editors. docs/config.md documents every field.
 *
 * A refinement zod cannot turn into JSON Schema (a refine, a superRefine) carries its JSON Schema
 * twin in `.meta()`, written beside it (`jsonSchema*` below), so an editor refuses what Sluice
 * refuses. test/config/configCorpus.ts holds the cases both must agree on, and the few the JSON
 * Schema cannot express.
 */
import proxyaddr from "proxy-addr";
import { z } from "zod";
import { apiKeyDigest } from "./apiKeyDigest.js";
import { DEMO_SERVICE_NAMES } from "./demoNames.js";
import { GATEWAY_OWNED, HOP_BY_HOP, isReservedHeader } from "./headerNames.js";
import { ALGORITHM_NAMES } from "../limiter/algorithms/index.js";
import { FAILURE_MODES } from "../limiter/policy.js";
import { BYTE_SIZE_PATTERN, parseByteSize } from "./byteSize.js";
import { DURATION_PATTERN, parseDuration } from "./duration.js";

/** How a service spreads requests over its targets (gateway/upstream/balancer.ts). */
export const BALANCE_STRATEGIES = ["round-robin", "least-in-flight"] as const;
export type BalanceStrategy = (typeof BALANCE_STRATEGIES)[number];

/** The levels of `log.level` and LOG_LEVEL, most severe first (observability/logger.ts). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON Schema twins of the refinements below: what `.meta()` adds to the generated schema. */
const IPV4 = String.raw`(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}`;
const MASK_OCTET = "(0|128|192|224|240|248|252|254|255)";
const IPV4_MASK = String.raw`(255\.255\.255\.${MASK_OCTET}|255\.255\.${MASK_OCTET}\.0|255\.${MASK_OCTET}\.0\.0|(128|192|224|240|248|252|254|255)\.0\.0\.0)`;
const IPV6 = String.raw`[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(:${IPV4})?(%[0-9A-Za-z_.-]+)?`;
/**
 * A trustedProxies entry as proxy-addr reads it: a named range, an IPv4 address with a prefix
 * (1–32) or a contiguous netmask, an IPv6 address with a prefix (1–128). Looser than proxy-addr
 * for IPv6 (it does not count the groups), stricter for IPv4's old notations (octal, hex, one
 * 32-bit number), which proxy-addr still reads: the corpus lists both.
 */
const jsonSchemaTrustEntry = { pattern: `^(loopback|linklocal|uniquelocal|${IPV4}(/(0?[1-9]|[12][0-9]|3[0-2]|${IPV4_MASK}))?|${IPV6}(/(0{0,2}[1-9]|0?[1-9][0-9]|1[01][0-9]|12[0-8]))?)$` };
/** An http(s) URL without query or fragment: z.url's protocol check and the refine below. */
const jsonSchemaHttpUrl = { pattern: "^[Hh][Tt][Tt][Pp][Ss]?://[^?#]*$" };

/** Whether `entry` is an address, a CIDR range or a named range that edge/clientAddress.ts's compileTrust accepts. */
function isTrustEntry(entry: string): boolean {
  try {
    proxyaddr.compile(entry);
    return true;
  } catch {
    return false;
  }
}

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
  error: "use 1–63 lower-case letters, digits, '-' or '_', starting with a letter or digit",
});

const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'write a positive duration with a unit, e.g. "500ms", "30s", "1m", "2h", "1d"' })
  .transform(parseDuration);

const byteSize = z
  .string()
  .regex(BYTE_SIZE_PATTERN, { error: 'write a positive size with a unit, e.g. "512b", "16kb", "10mb", "1gb"' })
  .transform(parseByteSize);

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
}).meta({
  // The superRefine's rules; an omitted algorithm is gcra.
  allOf: [
    { if: { required: ["burst"] }, then: { properties: { algorithm: { const: "gcra" } } } },
    ...ALGORITHM_FIELDS.filter(([, algorithm]) => algorithm !== "gcra").map(([field, algorithm]) => ({ if: { required: [field] }, then: { required: ["algorithm"], properties: { algorithm: { const: algorithm } } } })),
    { if: { required: ["algorithm"], properties: { algorithm: { const: "token-bucket" } } }, then: { required: ["capacity"] } },
    { if: { not: { required: ["algorithm"], properties: { algorithm: { const: "concurrency" } } } }, then: { required: ["window"] } },
  ],
});

const limitRefs = z.array(name).describe("Names of limits defined under `limits`.");

/**
 * A limit of a named policy's descriptor rule: a limit as under `limits`, without `by` (the
 * descriptor's values are the counter's key) and without concurrency (the rate-limit service
 * takes no leases).
 */
const ruleLimit = z.preprocess((value, ctx) => {
  if (typeof value === "object" && value !== null && "by" in value) {
    ctx.addIssue({ code: "custom", path: ["by"], message: "a policy's limit is counted per descriptor value; by applies to `limits` only", input: value });
  }
  return value;
}, limit.refine((l) => l.algorithm !== "concurrency", { path: ["algorithm"], error: "the rate-limit service takes no leases: use a rate algorithm, not concurrency" })
  .meta({ not: { anyOf: [{ required: ["by"] }, { required: ["algorithm"], properties: { algorithm: { const: "concurrency" } } }] } }));

/** One rule of a named policy, in Envoy's shape: it matches a descriptor entry by key, and by value when it names one. */
export interface DescriptorRuleConfig {
  readonly key: string;
  readonly value?: string | undefined;
  /** None: the entries this rule matches are unlimited. */
  readonly limit?: z.output<typeof limit> | undefined;
  readonly descriptors?: readonly DescriptorRuleConfig[] | undefined;
}

interface DescriptorRuleInput {
  key: string;
  value?: string | undefined;
  limit?: unknown;
  descriptors?: DescriptorRuleInput[] | undefined;
}

// Lazy: a rule holds rules for the descriptor's next entry.
const descriptorRules: z.ZodType<DescriptorRuleConfig[], DescriptorRuleInput[]> = z.lazy(() => z.array(z.strictObject({
  key: z.string().min(1).max(128).describe("The descriptor entry's key this rule matches."),
  value: z.string().min(1).max(256).optional().describe("Match only entries with this value, overriding the key's default rule; without it, the default for the key."),
  limit: ruleLimit.optional().describe("The limit of the entries this rule matches, one counter per value; none: unlimited."),
  descriptors: descriptorRules.optional().describe("Rules for the descriptor's next entry."),
})).min(1).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    const id = JSON.stringify([rule.key, rule.value ?? null]);
    if (seen.has(id)) ctx.addIssue({ code: "custom", path: [i], message: `another rule of this level already matches key "${rule.key}"${rule.value === undefined ? " with no value" : ` and value "${rule.value}"`}` });
    seen.add(id);
  });
}));

const namedPolicy = z.strictObject({
  description: z.string().optional(),
  descriptors: descriptorRules.describe("The rules, matched against a descriptor's entries in order (docs/ratelimit-service.md#named-policies)."),
});

const upstream = z.union([
  z.string().regex(new RegExp(`^demo://(${DEMO_SERVICE_NAMES.join("|")})$`)),
  z.url({ protocol: /^https?$/ }).refine((value) => !/[?#]/.test(value)).meta(jsonSchemaHttpUrl),
], { error: `an upstream is an http(s) URL without query or fragment, such as "http://127.0.0.1:9000/base", or a built-in demo service: ${DEMO_SERVICE_NAMES.map((n) => `demo://${n}`).join(", ")}` });

const httpMethod = z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A header name the config may set or remove: not hop-by-hop and not one the gateway sets itself. */
const rewritableHeader = z.string().regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, { error: "a header name in lower case" })
  .refine((header) => !isReservedHeader(header), { error: "hop-by-hop headers and the ones Sluice sets itself (host, forwarded, x-forwarded-*, x-request-id, x-consumer-id, x-api-key) cannot be rewritten" })
  .meta({ not: { enum: [...HOP_BY_HOP, ...GATEWAY_OWNED] } });

const headerRewrites = z.strictObject({
  set: z.record(rewritableHeader, z.string().regex(/^[\t\x20-\x7e]*$/, { error: "a header value of printable ASCII" })).optional()
    .describe("Headers to set, replacing any the message carries."),
  remove: z.array(rewritableHeader).min(1).optional().describe("Headers to drop."),
});

const route = z.strictObject({
  path: z.string().regex(/^\/[^?#]*$/, { error: 'a route path starts with "/"; end it with "/*" to match everything below it' })
    .describe('Path under the service: exact ("/number"), with ":name" segments that match any one segment ("/users/:id"), or a prefix ending in "/*" ("/users/*").'),
  cost: z.number().int().positive().default(1).describe("Units each request of this route takes from its limits."),
  methods: z.array(httpMethod).min(1).optional().describe("Methods the route accepts; all when omitted."),
  limits: limitRefs.optional().describe("Limits for this route, applied instead of the service's."),
  rewritePrefix: z.strictObject({
    from: z.string().regex(/^\/[^?#]*$/, { error: 'a path prefix starting with "/"' }).describe("The prefix of the path under the service to replace, matched at a segment boundary."),
    to: z.string().regex(/^(?:\/[^?#]*)?$/, { error: 'empty (strip the prefix) or a path starting with "/"' }).describe('What replaces it; "" strips it.'),
  }).optional().describe("Rewrites the forwarded path's prefix, e.g. { from: /v1, to: /v2 }."),
  requestHeaders: headerRewrites.optional().describe("Request headers to set or remove, added to the service's."),
  responseHeaders: headerRewrites.optional().describe("Response headers to set or remove, added to the service's."),
  websocket: z.boolean().optional().describe("Whether WebSocket upgrades pass through; the service's setting when omitted."),
  maxBodySize: byteSize.optional().describe("Largest request body this route accepts (413 beyond it), instead of the service's; the service's when omitted."),
});

const service = z.strictObject({
  upstream: upstream.optional().describe("Where requests are proxied: base URL of the backend (or give `upstreams`)."),
  upstreams: z.array(upstream).min(1).max(64).optional()
    .describe("Several targets of one backend, balanced; each URL with the same path. Instead of `upstream`."),
  balance: z.enum(BALANCE_STRATEGIES).default("round-robin").describe("How a target is chosen: round-robin, or least-in-flight (fewest requests outstanding)."),
  healthCheck: z.strictObject({
    path: z.string().regex(/^\/[^#]*$/, { error: 'a path starting with "/"' }).default("/health").describe("Path probed on each target (after its URL's path); 2xx or 3xx is healthy."),
    interval: duration.prefault("10s").describe("Time between two probes of a target."),
    timeout: duration.prefault("2s").describe("Longest wait for a probe's answer."),
    healthyThreshold: z.number().int().min(1).max(100).default(2).describe("Consecutive passed probes that bring an unhealthy target back."),
    unhealthyThreshold: z.number().int().min(1).max(100).default(3).describe("Consecutive failed probes that take a target out."),
  }).optional().describe("Active health checks of each target; none when omitted (the circuit breaker still ejects failing targets)."),
  circuitBreaker: z.strictObject({
    failures: z.number().int().min(1).max(1000).default(5).describe("Consecutive failures (connection errors, timeouts, 502/503/504) that eject a target."),
    backoff: duration.prefault("10s").describe("How long an ejected target is left alone before one probe request."),
    maxBackoff: duration.prefault("5m").describe("Longest ejection: each failed probe doubles the backoff up to this."),
  }).prefault({}).describe("Passive ejection of failing targets."),
  retries: z.strictObject({
    attempts: z.number().int().min(0).max(5).default(1).describe("Retries of a request that could not connect, each on another target; 0 turns retries off."),
    budget: z.number().min(0).max(1).default(0.2).describe("Retries allowed per request over the last 10 seconds (0.2: one in five)."),
    minPerSecond: z.number().min(0).max(1000).default(5).describe("Retries allowed per second however few the requests."),
  }).prefault({}).describe("Retries of idempotent requests without a body that failed before any byte was sent."),
  description: z.string().optional(),
  limits: limitRefs.optional().describe("Limits for every request to this service; `defaults.limits` when omitted."),
  routes: z.array(route).min(1).optional().describe("When given, only these paths are routed; others answer 404."),
  openapi: z.union([z.string().regex(/^\//), z.literal(false)], { error: 'the path of the upstream\'s OpenAPI document, starting with "/", or false' }).default("/openapi.json")
    .describe("Path of the upstream's OpenAPI document, merged into /docs; false to leave it out."),
  timeout: duration.prefault("30s").describe("Longest wait for the upstream's response headers."),
  connectTimeout: duration.prefault("5s").describe("Longest wait for a connection to a target."),
  bodyTimeout: duration.prefault("1m").describe("Longest silence between two chunks of the response body (each chunk restarts it, so streams may last)."),
  totalTimeout: duration.optional().describe("Longest whole exchange with the upstream, body included; none when omitted."),
  requestHeaders: headerRewrites.optional().describe("Request headers to set or remove on every route."),
  responseHeaders: headerRewrites.optional().describe("Response headers to set or remove on every route."),
  websocket: z.boolean().default(false).describe("Whether WebSocket upgrades pass through to this service (routes may override)."),
  maxBodySize: byteSize.optional().describe("Largest request body this service accepts (413 beyond it); server.maxBodySize when omitted."),
}).superRefine((s, ctx) => {
  if (s.upstream === undefined && s.upstreams === undefined) {
    ctx.addIssue({ code: "custom", path: ["upstream"], message: "required field is missing: give upstream (one URL) or upstreams (a list of URLs)" });
    return;
  }
  if (s.upstream !== undefined && s.upstreams !== undefined) {
    ctx.addIssue({ code: "custom", path: ["upstreams"], message: "give either upstream (one URL) or upstreams (a list of URLs), not both" });
    return;
  }
  const paths = new Set(s.upstreams?.map((u) => (u.startsWith("demo://") ? "/" : new URL(u).pathname.replace(/\/+$/, "") || "/")));
  if (paths.size > 1) ctx.addIssue({ code: "custom", path: ["upstreams"], message: "the targets of one service are replicas: give every URL the same path" });
}).meta({ oneOf: [{ required: ["upstream"] }, { required: ["upstreams"] }] }).transform(({ upstream: one, upstreams: list, ...rest }) => {
  const targets = list ?? [one!];
  // `upstream` stays the first target, for the parts that show one address (docs, admin API).
  return { ...rest, upstream: targets[0]!, upstreams: targets };
});

/** A server.publicHosts entry (no `i` flag: JSON Schema patterns have none, so both cases are spelled out): `*`, or a name (`*.` for subdomains), IPv4 or [IPv6] address, with an optional port. */
const PUBLIC_HOST = /^(?:\*|(?:\*\.)?[a-zA-Z0-9_](?:[a-zA-Z0-9_-]*[a-zA-Z0-9_])?(?:\.[a-zA-Z0-9_](?:[a-zA-Z0-9_-]*[a-zA-Z0-9_])?)*\.?(?::\d{1,5})?|\[[0-9a-fA-F:.]+\](?::\d{1,5})?)$/;

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
      grpcPort: z.number().int().min(0).max(65535).optional()
        .describe("Port of the Envoy rate-limit service (gRPC ShouldRateLimit, plaintext) on server.host (0: any free port); off when omitted."),
      statusPort: z.number().int().min(0).max(65535).optional()
        .describe("Port of the status listener, on server.statusHost, for operators: /metrics, /readyz with its details, /healthz (0: any free port). When set, the public port no longer serves /metrics. Off when omitted."),
      statusHost: z.string().min(1).default("127.0.0.1").describe("Address of the status listener (server.statusPort); loopback unless your scraper needs another. On a loopback address it answers only this machine's host names (DNS rebinding); server.publicHosts does not apply to it."),
      trustedProxies: z.union([
        z.number().int().min(1).max(32),
        z.array(z.string().refine(isTrustEntry, { error: 'not an IP address, a CIDR range (e.g. "10.0.0.0/8") or one of "loopback", "linklocal", "uniquelocal"' }).meta(jsonSchemaTrustEntry)).min(1),
      ], { error: 'trustedProxies is a number of proxy hops (e.g. 1) or a list of addresses and CIDR ranges (e.g. ["10.0.0.0/8", "loopback"])' }).optional()
        .describe("Proxies in front of Sluice whose X-Forwarded-For (the client address) and X-Forwarded-Proto (HTTPS: a Secure session cookie) are believed; none when omitted (the socket address counts)."),
      publicHosts: z.array(z.string().regex(PUBLIC_HOST, {
        error: 'a host name or address as clients write it in the URL ("api.example.com", "10.0.0.5", "[::1]"), optionally with ":port", "*.example.com" for its subdomains, or "*" for any',
      })).min(1).optional()
        .describe("Host header values Sluice answers (421 for others), against DNS rebinding. Omitted: any, except on a loopback host with no trustedProxies, where only localhost, *.localhost, 127.0.0.1 and [::1] (any port) are."),
      ipv6Prefix: z.number().int().min(1).max(128).default(64).describe("IPv6 clients are counted by this prefix length, so one client cannot rotate addresses around a limit."),
      invalidKeys: z.union([z.literal(false), z.strictObject({
        limit: z.number().int().positive().describe("Invalid API keys (or session cookies) one client address may send per window."),
        window: duration.describe('The window, e.g. "1m"; it starts at the address\'s first invalid key.'),
      })], { error: 'invalidKeys is { limit, window }, e.g. { limit: 30, window: "1m" }, or false' }).prefault({ limit: 30, window: "1m" })
        .describe("Throttles key guessing: past `limit` invalid keys in `window`, an address gets 429 without its keys being looked up until the window ends (keys this instance has just verified still pass); false turns it off."),
      drainDelay: duration.optional()
        .describe("On SIGTERM, how long /readyz answers 503 before the listener closes, so a load balancer stops sending first; none when omitted."),
      shutdownTimeout: duration.prefault("30s").describe("On SIGTERM, longest wait for requests in flight once the listener has closed; then their connections are cut."),
      maxBodySize: byteSize.prefault("10mb").describe("Largest request body a service accepts unless it sets its own; larger ones get 413 before they are read."),
      maxHeaderSize: byteSize.prefault("16kb").describe("Largest request line plus headers; larger ones get 431 and the connection closes."),
      headersTimeout: duration.prefault("10s").describe("Longest a client may take to send a request's line and headers (against slowloris); then 408 and the connection closes."),
      requestTimeout: duration.prefault("60s").describe("Longest a client may take to send a whole request, body included; then 408 and the connection closes."),
      idleTimeout: duration.prefault("2m").describe("Longest a connection may stay silent both ways, mid-request included (a stalled body): then it is closed. Keep it above every service's timeouts."),
      keepAliveTimeout: duration.prefault("5s").describe("How long an idle keep-alive connection waits for the client's next request."),
      maxConnections: z.number().int().min(1).default(10_000).describe("Most client connections at once; further ones are closed as they arrive."),
      overload: z.strictObject({
        maxEventLoopDelay: duration.prefault("1s").describe("New gateway and rate-limit requests get 503 before any counting while the event loop runs later than this."),
        maxPendingDecisions: z.number().int().min(1).default(10_000).describe("... or while more decisions than this wait for the limiter store (Redis)."),
      }).prefault({}).describe("When Sluice sheds load: new requests are refused with 503 before they are counted, rather than answered late."),
    }).refine((server) => server.headersTimeout <= server.requestTimeout, { path: ["headersTimeout"], error: "headersTimeout cannot be longer than requestTimeout" }).prefault({}),
    limiter: z.strictObject({
      store: z.enum(["auto", "memory", "redis"]).default("auto").describe("Where limit state lives: redis when REDIS_URL is set (auto), or memory."),
      timeout: duration.prefault("50ms").describe("Longest wait for a Redis decision before the limit's onStoreFailure applies."),
      keyPrefix: z.string().max(64).default("sluice:").describe("Prefix of every Redis key, to share a Redis with other applications."),
      legacyHeaders: z.boolean().default(false).describe("Also send X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset."),
      maxKeys: z.number().int().min(1).default(1_000_000).describe("Most counters the in-process memory store keeps; past it the least recently used are evicted."),
      cluster: z.boolean().default(false)
        .describe("REDIS_URL is a Redis Cluster: one seed node, or several as a comma-separated list (redis://host:port,redis://host:port)."),
      sentinel: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, { error: "the name of a master group Sentinel monitors: letters, digits, '.', '_' or '-'" }).optional()
        .describe("Name of the master group Redis Sentinel monitors; REDIS_URL then lists the Sentinels (redis://host:26379,redis://host:26379)."),
    }).refine((limiter) => !(limiter.cluster && limiter.sentinel !== undefined), { path: ["sentinel"], error: "a Redis Cluster fails over by itself: set cluster or sentinel, not both" })
      .meta({ not: { required: ["cluster", "sentinel"], properties: { cluster: { const: true } } } }).prefault({}),
    log: z.strictObject({
      level: z.enum(LOG_LEVELS).default("info").describe("The least severe level written; LOG_LEVEL overrides it."),
      access: z.boolean().default(true).describe("Write one info line per gateway request (/api/*): request id, consumer, route, status, durations, limiter outcome."),
    }).prefault({}),
    tracing: z.strictObject({
      endpoint: z.url({ protocol: /^https?$/, error: 'the collector\'s OTLP/HTTP traces URL, e.g. "http://127.0.0.1:4318/v1/traces"' }).meta({ pattern: "^[Hh][Tt][Tt][Pp][Ss]?://" })
        .describe("The collector's OTLP/HTTP traces URL (JSON), e.g. http://127.0.0.1:4318/v1/traces."),
      serviceName: z.string().min(1).max(256).default("sluice").describe("The spans' service.name."),
      sampleRatio: z.number().min(0).max(1).default(1)
        .describe("Share of requests traced when the client sends no traceparent (0 to 1); an incoming traceparent's sampled flag decides for its request."),
      headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "a header name" }), z.string().regex(/^[\t\x20-\x7e]*$/, { error: "a header value of printable ASCII" })).optional()
        .describe("Headers sent to the collector with every export, e.g. an authorization token; never logged."),
    }).optional().describe("OpenTelemetry traces of gateway requests, exported over OTLP/HTTP; off when omitted."),
    defaults: z.strictObject({
      limits: limitRefs.default([]).describe("Limits of every service that names none of its own."),
    }).prefault({}),
    limits: z.record(name, limit).default({}).describe("Named limits that services and routes refer to."),
    services: z.record(name, service).default({}).describe("Backends reachable at /api/<service>/<path>."),
    consumers: z.record(name, consumer).default({}).describe("Clients and their API keys."),
    policies: z.record(name, namedPolicy).default({}).describe("Named policies of the rate-limit service (POST /v1/ratelimit, Envoy's ShouldRateLimit): one domain each."),
    serviceTokens: z.strictObject({
      requireScope: z.boolean().default(false)
        .describe("Refuse (403) every call of a service token made without a scope; by default such a token may use every namespace and policy, as tokens could before scopes existed."),
      grpc: z.enum(["optional", "required"]).default("optional")
        .describe("Whether calls to Envoy's ShouldRateLimit (gRPC) must carry a service token (authorization metadata); optional: a call without one may use every policy, as with Envoy's own service."),
    }).prefault({}).describe("Who may use the rate-limit service's tokens for what (docs/ratelimit-service.md#tokens)."),
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
export type NamedPolicyConfig = SluiceConfig["policies"][string];
export type ServiceTokensConfig = SluiceConfig["serviceTokens"];

// Plans in the database (src/accounts/plans.ts) hold limits and names of exactly this shape.
export { limit as limitSchema, name as nameSchema };
/** A limit as written (durations as strings, defaults not yet applied); `limitSchema` turns it into a `LimitConfig`. */
export type LimitInput = z.input<typeof limit>;
