/**
 * One corpus of configuration files, each said valid or invalid, that configCorpus.test.ts runs
 * through both judges of a config: Sluice's loader (`sluice check-config`) and ajv with the
 * shipped JSON Schema (what an editor says). They must agree on every case, except the known
 * differences listed here with the reason the JSON Schema cannot say what the loader says; the
 * test holds those to their stated disagreement, so a note cannot outlive its reason.
 *
 * Add a case for every rule of schema.ts that is not a plain type: a refinement, a pattern, a
 * cross-field rule. Each case is a whole file as a user writes it.
 */

export interface ConfigCase {
  readonly name: string;
  readonly yaml: string;
  /** What Sluice's loader says. */
  readonly valid: boolean;
  /**
   * The JSON Schema says the opposite, and why it cannot say the same (a rule across fields, or
   * one that needs code): an editor accepts or refuses this file where check-config does not.
   */
  readonly knownDifference?: string;
}

const svc = (body: string) => `services:\n  api:\n${body.replace(/^/gm, "    ")}\n`;
const limit = (body: string) => `limits:\n  l:\n${body.replace(/^/gm, "    ")}\n`;
const rule = (body: string) => `policies:\n  p:\n    descriptors:\n      - key: user\n${body.replace(/^/gm, "        ")}\n`;
const trusted = (entry: string) => `server:\n  trustedProxies: ["${entry}"]\n`;

export const CONFIG_CASES: readonly ConfigCase[] = [
  // The file as a whole.
  { name: "an empty file is the default configuration", yaml: "", valid: true },
  { name: "a file of comments only", yaml: "# nothing yet\n", valid: true },
  { name: "a list is not a configuration", yaml: "- a\n", valid: false },
  { name: "an unknown top-level field", yaml: "sevices: {}\n", valid: false },
  { name: "the shipped demo config's shape", yaml: `${svc("upstream: demo://users\nlimits: [l]")}${limit("algorithm: gcra\nlimit: 10\nwindow: 1s")}`, valid: true },

  // Upstreams.
  { name: "an http upstream with a path", yaml: svc("upstream: http://127.0.0.1:9000/base"), valid: true },
  { name: "an HTTPS upstream in capitals", yaml: svc("upstream: HTTPS://api.example.com"), valid: true },
  { name: "an ftp upstream", yaml: svc("upstream: ftp://files.example.com/"), valid: false },
  { name: "an upstream with a query", yaml: svc("upstream: http://127.0.0.1:9000/base?x=1"), valid: false },
  { name: "an upstream with a fragment", yaml: svc("upstream: http://127.0.0.1:9000/#top"), valid: false },
  { name: "a demo upstream Sluice does not ship", yaml: svc("upstream: demo://nope"), valid: false },
  { name: "a service with neither upstream nor upstreams", yaml: svc("description: nothing to proxy to"), valid: false },
  { name: "a service with both upstream and upstreams", yaml: svc("upstream: http://a:1\nupstreams: [http://b:1]"), valid: false },
  { name: "upstreams, replicas with one path", yaml: svc("upstreams: [http://a:1/v1, http://b:1/v1/]"), valid: true },
  {
    name: "upstreams with different paths",
    yaml: svc("upstreams: [http://a:1/v1, http://b:1/v2]"),
    valid: false,
    knownDifference: "comparing the paths of the URLs in one list needs code",
  },

  // Limits.
  { name: "a gcra limit with a burst", yaml: limit("limit: 10\nwindow: 1s\nburst: 5"), valid: true },
  { name: "a burst on a fixed-window limit", yaml: limit("algorithm: fixed-window\nlimit: 10\nwindow: 1s\nburst: 5"), valid: false },
  { name: "a token bucket with its capacity", yaml: limit("algorithm: token-bucket\nlimit: 10\nwindow: 1s\ncapacity: 20"), valid: true },
  { name: "a token bucket without a capacity", yaml: limit("algorithm: token-bucket\nlimit: 10\nwindow: 1s"), valid: false },
  { name: "a capacity on the default algorithm", yaml: limit("limit: 10\nwindow: 1s\ncapacity: 20"), valid: false },
  { name: "align on a fixed window", yaml: limit("algorithm: fixed-window\nlimit: 10\nwindow: 1d\nalign: clock"), valid: true },
  { name: "align on a sliding window", yaml: limit("algorithm: sliding-window-log\nlimit: 10\nwindow: 1d\nalign: clock"), valid: false },
  { name: "a limit without a window", yaml: limit("limit: 10"), valid: false },
  { name: "a concurrency limit without a window", yaml: limit("algorithm: concurrency\nlimit: 10"), valid: true },
  { name: "a window without a unit", yaml: limit("limit: 10\nwindow: 30"), valid: false },
  { name: "a limit of 0", yaml: limit("limit: 0\nwindow: 1s"), valid: false },
  { name: "a limit counted by a header", yaml: limit("limit: 1\nwindow: 1s\nby: [ip, header:x-tenant]"), valid: true },
  { name: "a limit counted by an unknown part", yaml: limit("limit: 1\nwindow: 1s\nby: [cookie]"), valid: false },
  { name: "a limit name in capitals", yaml: "limits:\n  Per-Client: { limit: 1, window: 1s }\n", valid: false },
  {
    name: "a service naming a limit that is not defined",
    yaml: svc("upstream: http://a:1\nlimits: [missing]"),
    valid: false,
    knownDifference: "a reference from one part of the file to a name defined in another needs code",
  },

  // Named policies of the rate-limit service.
  { name: "a policy rule with a gcra limit", yaml: rule("limit: { limit: 5, window: 1m }"), valid: true },
  { name: "a policy rule counted by ip", yaml: rule("limit: { limit: 5, window: 1m, by: [ip] }"), valid: false },
  { name: "a policy rule with a concurrency limit", yaml: rule("limit: { algorithm: concurrency, limit: 5 }"), valid: false },
  { name: "a policy rule with a token bucket and no capacity", yaml: rule("limit: { algorithm: token-bucket, limit: 5, window: 1m }"), valid: false },
  {
    name: "two rules of one level matching the same key",
    yaml: "policies:\n  p:\n    descriptors:\n      - { key: user, limit: { limit: 1, window: 1s } }\n      - { key: user, limit: { limit: 2, window: 1s } }\n",
    valid: false,
    knownDifference: "JSON Schema's uniqueItems compares whole items; rules that differ only in their limits are still duplicates",
  },

  // Header rewrites.
  { name: "setting a custom request header", yaml: svc("upstream: http://a:1\nrequestHeaders: { set: { x-tenant: acme } }"), valid: true },
  { name: "setting the Host header", yaml: svc("upstream: http://a:1\nrequestHeaders: { set: { host: evil.example } }"), valid: false },
  { name: "removing a hop-by-hop header", yaml: svc("upstream: http://a:1\nresponseHeaders: { remove: [connection] }"), valid: false },
  { name: "setting X-Forwarded-For", yaml: svc("upstream: http://a:1\nrequestHeaders: { set: { x-forwarded-for: 1.2.3.4 } }"), valid: false },
  { name: "a header name in capitals", yaml: svc("upstream: http://a:1\nrequestHeaders: { set: { X-Tenant: acme } }"), valid: false },

  // Trusted proxies.
  { name: "a hop count", yaml: "server:\n  trustedProxies: 1\n", valid: true },
  { name: "a CIDR range", yaml: trusted("10.0.0.0/8"), valid: true },
  { name: "a CIDR range with a prefix past 32", yaml: trusted("10.0.0.0/99"), valid: false },
  { name: "a /0 range", yaml: trusted("10.0.0.0/0"), valid: false },
  { name: "an IPv4 netmask", yaml: trusted("10.0.0.0/255.0.0.0"), valid: true },
  { name: "a netmask that is not contiguous", yaml: trusted("10.0.0.0/255.0.255.0"), valid: false },
  { name: "an address past 255", yaml: trusted("256.0.0.1"), valid: false },
  { name: "a named range", yaml: trusted("uniquelocal"), valid: true },
  { name: "a named range in capitals", yaml: trusted("LOOPBACK"), valid: false },
  { name: "an IPv6 range", yaml: trusted("fd00::/8"), valid: true },
  { name: "an IPv4-mapped IPv6 range", yaml: trusted("::ffff:10.0.0.0/104"), valid: true },
  { name: "an IPv6 prefix past 128", yaml: trusted("::1/129"), valid: false },
  {
    name: "an IPv6 address with two '::'",
    yaml: trusted("1::2::3"),
    valid: false,
    knownDifference: "a pattern that counts IPv6 groups around one '::' is too long to read; the schema checks the characters and the prefix",
  },
  {
    name: "an IPv4 address in octal",
    yaml: trusted("010.0.0.1"),
    valid: true,
    knownDifference: "proxy-addr still reads IPv4's old notations (octal, hex, one 32-bit number); the schema asks for dotted decimal, as an editor should suggest",
  },

  // Server and limiter.
  { name: "a public host in capitals", yaml: "server:\n  publicHosts: [API.Example.com:8443]\n", valid: true },
  { name: "a public host with a path", yaml: "server:\n  publicHosts: [api.example.com/x]\n", valid: false },
  { name: "a port past 65535", yaml: "server:\n  port: 70000\n", valid: false },
  { name: "a body size with a unit", yaml: "server:\n  maxBodySize: 16kb\n", valid: true },
  { name: "a body size without one", yaml: "server:\n  maxBodySize: 16\n", valid: false },
  {
    name: "headersTimeout longer than requestTimeout",
    yaml: "server:\n  headersTimeout: 2m\n  requestTimeout: 1m\n",
    valid: false,
    knownDifference: "comparing two durations written with units needs code",
  },
  { name: "Redis Cluster and Sentinel at once", yaml: "limiter:\n  cluster: true\n  sentinel: main\n", valid: false },
  { name: "Sentinel alone", yaml: "limiter:\n  cluster: false\n  sentinel: main\n", valid: true },
  { name: "a tracing endpoint over ftp", yaml: "tracing:\n  endpoint: ftp://collector:4318/v1/traces\n", valid: false },
  { name: "a tracing endpoint", yaml: "tracing:\n  endpoint: http://127.0.0.1:4318/v1/traces\n", valid: true },

  // Consumers.
  { name: "a consumer with a hashed key", yaml: `consumers:\n  c:\n    keys: ["sha256:${"a".repeat(64)}"]\n`, valid: true },
  { name: "a key too short", yaml: "consumers:\n  c:\n    keys: [short]\n", valid: false },
  { name: "a malformed hash", yaml: "consumers:\n  c:\n    keys: [\"sha256:abc\"]\n", valid: false },
  {
    name: "one key for two consumers",
    yaml: "consumers:\n  a:\n    keys: [demo-key-0001]\n  b:\n    keys: [demo-key-0001]\n",
    valid: false,
    knownDifference: "a key compared across consumers (by its digest, plaintext or hashed) needs code",
  },
  {
    name: "a consumer scoped to a service that is not defined",
    yaml: "consumers:\n  c:\n    keys: [demo-key-0001]\n    scopes: [nope]\n",
    valid: false,
    knownDifference: "a reference from one part of the file to a name defined in another needs code",
  },
];
