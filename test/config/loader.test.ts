// Loading the config: the shipped example parses; every mistake in a file is reported at once,
// each with file:line:col, its path in the document and what to write instead; PORT and HOST
// from the environment win over the file, and a Redis store needs REDIS_URL.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sha256Hex } from "../../src/config/apiKeyDigest.js";
import { ConfigError, DEMO_CONFIG_PATH, loadConfig, parseConfig } from "../../src/config/loader.js";

/** The server's limits against hostile clients and overload, at their defaults (docs/config.md). */
const EDGE_LIMITS = { maxBodySize: 10_485_760, maxHeaderSize: 16_384, headersTimeout: 10_000, requestTimeout: 60_000, idleTimeout: 120_000, keepAliveTimeout: 5_000, maxConnections: 10_000, invalidKeys: { limit: 30, window: 60_000 }, overload: { maxEventLoopDelay: 1_000, maxPendingDecisions: 10_000 } };
/** What every service gets unless it says otherwise: balancing, ejection, retries, timeouts, no WebSocket (docs/proxy.md). */
const PROXY_DEFAULTS = { balance: "round-robin", circuitBreaker: { failures: 5, backoff: 10_000, maxBackoff: 300_000 }, retries: { attempts: 1, budget: 0.2, minPerSecond: 5 }, connectTimeout: 5_000, bodyTimeout: 60_000, websocket: false };

/** Parses `yaml` as "sluice.yaml" and returns the ConfigError it must throw. */
function rejection(yaml: string): ConfigError {
  try {
    parseConfig(yaml, "sluice.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  return assert.fail("expected the config to be rejected");
}

/** Asserts `yaml` is rejected with exactly one problem whose rendered line contains every substring. */
function assertOneProblem(yaml: string, substrings: readonly string[]): void {
  const error = rejection(yaml);
  assert.equal(error.problems.length, 1, error.message);
  for (const substring of substrings) assert.ok(error.message.includes(substring), `expected ${JSON.stringify(substring)} in:\n${error.message}`);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-loader-test-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("the example config", () => {
  it("is what Sluice loads when no file is named", async () => {
    const loaded = await loadConfig({ env: {} });
    assert.equal(loaded.source, DEMO_CONFIG_PATH);
    assert.ok(DEMO_CONFIG_PATH.endsWith(join("examples", "sluice.yaml")));
  });

  it("parses into the demo gateway: three demo services, two limits, one consumer", async () => {
    const { config } = await loadConfig({ file: DEMO_CONFIG_PATH, env: {} });
    assert.deepEqual(config, {
      server: { host: "127.0.0.1", port: 8080, ipv6Prefix: 64, ...EDGE_LIMITS, shutdownTimeout: 30_000, statusHost: "127.0.0.1" },
      limiter: { store: "auto", timeout: 50, keyPrefix: "sluice:", legacyHeaders: false, maxKeys: 1_000_000, cluster: false },
      log: { level: "info", access: true },
      defaults: { limits: ["per-client"] },
      limits: {
        "per-client": { algorithm: "sliding-window-log", limit: 5, window: 30_000, by: ["consumer"], shadow: false, onStoreFailure: "open" },
        "random-per-minute": { algorithm: "fixed-window", limit: 5, window: 60_000, by: ["consumer"], shadow: false, onStoreFailure: "open" },
      },
      services: {
        users: { ...PROXY_DEFAULTS, upstream: "demo://users", upstreams: ["demo://users"], description: "Customer profiles (the original user service).", openapi: "/openapi.json", timeout: 30_000 },
        recommend: { ...PROXY_DEFAULTS, upstream: "demo://recommendations", upstreams: ["demo://recommendations"], description: "Product recommendations per user (the original ML service).", openapi: "/openapi.json", timeout: 30_000 },
        random: { ...PROXY_DEFAULTS, upstream: "demo://random-number", upstreams: ["demo://random-number"], description: "Random integers (the original random-number API).", limits: ["random-per-minute"], openapi: "/openapi.json", timeout: 30_000 },
      },
      consumers: { demo: { keys: ["secret-key"] } },
      policies: {},
      serviceTokens: { requireScope: false, grpc: "optional" },
    });
  });
});

describe("choosing the file", () => {
  it("reads the file SLUICE_CONFIG names when no file is given", async () => {
    const file = await fileWith("from-env.yaml", "server: { port: 9001 }\n");
    const loaded = await loadConfig({ env: { SLUICE_CONFIG: file } });
    assert.equal(loaded.source, file);
    assert.equal(loaded.config.server.port, 9001);
  });

  it("prefers an explicit file over SLUICE_CONFIG", async () => {
    const file = await fileWith("explicit.yaml", "server: { port: 9002 }\n");
    const loaded = await loadConfig({ file, env: { SLUICE_CONFIG: join(dir, "ignored.yaml") } });
    assert.equal(loaded.config.server.port, 9002);
  });

  it("reports a missing file by its path, with no line", async () => {
    const file = join(dir, "does-not-exist.yaml");
    await assert.rejects(loadConfig({ file, env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `invalid configuration in ${file}:\n  ${file}  cannot read the file (file not found)`);
      assert.deepEqual(error.problems, [{ line: 0, column: 0, path: "", message: "cannot read the file (file not found)" }]);
      return true;
    });
  });

  it("names the real file, line and column when a file on disk is invalid", async () => {
    const file = await fileWith("bad-port.yaml", "server:\n  port: 70000\n");
    await assert.rejects(loadConfig({ file, env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.source, file);
      assert.ok(error.message.includes(`${file}:2:9  server.port: `), error.message);
      return true;
    });
  });
});

describe("an empty file", () => {
  it("is a gateway with every default and nothing configured", () => {
    assert.deepEqual(parseConfig(""), {
      server: { host: "127.0.0.1", port: 8080, ipv6Prefix: 64, ...EDGE_LIMITS, shutdownTimeout: 30_000, statusHost: "127.0.0.1" },
      limiter: { store: "auto", timeout: 50, keyPrefix: "sluice:", legacyHeaders: false, maxKeys: 1_000_000, cluster: false },
      log: { level: "info", access: true },
      defaults: { limits: [] },
      limits: {},
      services: {},
      consumers: {},
      policies: {},
      serviceTokens: { requireScope: false, grpc: "optional" },
    });
  });
});

describe("ConfigError", () => {
  it("carries the stable code SLUICE_ERR_CONFIG, the source and every problem", () => {
    const error = rejection("server:\n  port: 70000\n");
    assert.equal(error.code, "SLUICE_ERR_CONFIG");
    assert.equal(error.name, "ConfigError");
    assert.equal(error.source, "sluice.yaml");
    assert.deepEqual(error.problems.map(({ line, column, path }) => ({ line, column, path })), [{ line: 2, column: 9, path: "server.port" }]);
  });

  it("renders each problem as '<file>:<line>:<col>  <path>: <message>' under a heading", () => {
    const error = rejection("server:\n  port: 70000\n");
    const [heading, problem, ...rest] = error.message.split("\n");
    assert.equal(heading, "invalid configuration in sluice.yaml:");
    assert.ok(problem !== undefined, error.message);
    assert.ok(problem.startsWith("  sluice.yaml:2:9  server.port: "), problem);
    assert.ok(problem.includes("65535"), problem);
    assert.deepEqual(rest, []);
  });

  it("reports every problem in the file at once, in document order", () => {
    const error = rejection("server:\n  port: -1\nlimits:\n  l: { limit: 0, window: 0s }\n");
    assert.deepEqual(error.problems.map((p) => `${p.line}:${p.column} ${p.path}`), [
      "2:9 server.port",
      "4:15 limits.l.limit",
      "4:26 limits.l.window",
    ]);
  });
});

describe("YAML syntax errors", () => {
  const cases: readonly (readonly [story: string, yaml: string, substrings: readonly string[]])[] = [
    ["an unclosed flow sequence", "server:\n  port: [1, 2\n", ["sluice.yaml:3:1  ", "Flow sequence in block collection must be sufficiently indented and end with a ]"]],
    ["a key written twice", "server:\n  host: a\n  host: b\n", ["sluice.yaml:3:3  ", "Map keys must be unique"]],
    ["a tab used as indentation", "server:\n\tport: 1\n", ["sluice.yaml:2:1  ", "Tabs are not allowed as indentation"]],
  ];
  for (const [story, yaml, substrings] of cases) {
    it(`reports ${story} with file:line:col`, () => {
      const error = rejection(yaml);
      assert.ok(error.problems.length >= 1);
      for (const substring of substrings) assert.ok(error.message.includes(substring), `expected ${JSON.stringify(substring)} in:\n${error.message}`);
    });
  }

  it("says each problem once, without the YAML parser's own \"at line …, column …:\" that introduced a snippet", () => {
    const error = rejection("server:\n  host: a\n  host: b\n");
    assert.deepEqual(error.problems, [{ line: 3, column: 3, path: "", message: "Map keys must be unique" }]);
    for (const yaml of ["server:\n  port: [1, 2\n", "server:\n\tport: 1\n", "server:\n  port: 1\n   host: x\n", "key: \"open\n"]) {
      for (const problem of rejection(yaml).problems) {
        assert.doesNotMatch(problem.message, /(:|at line \d+, column \d+)$/, JSON.stringify(problem));
      }
    }
  });
});

describe("invalid values", () => {
  const cases: readonly (readonly [story: string, yaml: string, substrings: readonly string[]])[] = [
    ["a port out of range", "server:\n  port: 70000\n", ["sluice.yaml:2:9  server.port: ", "<=65535"]],
    ["a duration without a unit's rules", "limits:\n  l:\n    limit: 5\n    window: 1.5s\n",
      ["sluice.yaml:4:13  limits.l.window: ", 'write a positive duration with a unit, e.g. "500ms", "30s", "1m", "2h", "1d"']],
    ["a limit name with capitals", "limits:\n  Bad: { limit: 1, window: 1s }\n",
      ["sluice.yaml:2:8  limits.Bad: ", `invalid name "Bad": use 1–63 lower-case letters, digits, '-' or '_', starting with a letter or digit`]],
    ["a reference to an undefined limit", "limits:\n  l: { limit: 1, window: 1s }\ndefaults:\n  limits: [nope]\n",
      ["sluice.yaml:4:12  defaults.limits.0: ", 'no limit named "nope"; defined limits: l']],
    ["a reference when no limits exist", "defaults:\n  limits: [nope]\n", ["defaults.limits.0: ", 'no limit named "nope"; defined limits: none']],
    ["an upstream that is neither http(s) nor a demo service", "services:\n  s: { upstream: 'ftp://x' }\n",
      ["sluice.yaml:2:18  services.s.upstream: ", 'an upstream is an http(s) URL without query or fragment, such as "http://127.0.0.1:9000/base", or a built-in demo service: demo://users, demo://recommendations, demo://random-number']],
    ["an upstream with a query string", "services:\n  s: { upstream: 'http://127.0.0.1:9000/?a=1' }\n", ["services.s.upstream: ", "without query or fragment"]],
    ["an unknown demo service", "services:\n  s: { upstream: 'demo://weather' }\n", ["services.s.upstream: ", "demo://users, demo://recommendations, demo://random-number"]],
    ["an API key shorter than 8 characters", "consumers:\n  c: { keys: [short] }\n",
      ["sluice.yaml:2:15  consumers.c.keys.0: ", 'an API key is at least 8 characters, or "sha256:" followed by the 64 lower-case hex digits of its SHA-256']],
    ["a digest in upper-case hex", `consumers:\n  c: { keys: ["sha256:${sha256Hex("secret-key").toUpperCase()}"] }\n`, ["consumers.c.keys.0: ", '"sha256:" followed by the 64 lower-case hex digits']],
    ["a token-bucket limit without a capacity", "limits:\n  l: { algorithm: token-bucket, limit: 1, window: 1s }\n",
      ["sluice.yaml:2:6  limits.l.capacity: ", "a token-bucket limit needs a capacity (tokens the bucket holds)"]],
    ["a public host written as a URL", "server:\n  publicHosts: [\"https://api.example.com/\"]\n",
      ["sluice.yaml:2:17  server.publicHosts.0: ", 'a host name or address as clients write it in the URL ("api.example.com", "10.0.0.5", "[::1]"), optionally with ":port"']],
    ["a route path without a leading slash", "services:\n  s:\n    upstream: demo://users\n    routes: [{ path: users }]\n", ["services.s.routes.0.path: ", 'a route path starts with "/"']],
  ];
  for (const [story, yaml, substrings] of cases) {
    it(`reports ${story}, where it is and how to fix it`, () => assertOneProblem(yaml, substrings));
  }
});

describe("unknown fields", () => {
  it("names a misspelt field and points to the docs", () => {
    assertOneProblem("server:\n  prot: 8080\n", ["sluice.yaml:2:", 'server.prot: unknown field "prot"; check the spelling against docs/config.md']);
  });

  it("names a misspelt top-level section", () => {
    assertOneProblem("servr: {}\n", ["sluice.yaml:1:", 'servr: unknown field "servr"; check the spelling against docs/config.md']);
  });

  it("names every unknown field of one object in one problem", () => {
    assertOneProblem("server:\n  prot: 1\n  hots: x\n", ['server.prot: unknown fields "prot", "hots"; check the spelling against docs/config.md']);
  });

  it("points at the misspelt key's own line, not at its block value's", () => {
    const error = rejection("services:\n  users:\n    upstream: http://127.0.0.1:9000\n    routez:\n      - path: /x\n");
    assert.deepEqual(error.problems.map(({ line, column, path }) => ({ line, column, path })), [{ line: 4, column: 5, path: "services.users.routez" }]);
    const topLevel = rejection("sevices:\n  users: {}\n");
    assert.deepEqual(topLevel.problems.map(({ line, column }) => [line, column]), [[1, 1]]);
  });

  it("refuses fields that belong to no limit", () => {
    assertOneProblem("limits:\n  l: { limit: 1, window: 1s, rate: 3 }\n", ['limits.l.rate: unknown field "rate"']);
  });
});

describe("missing required fields", () => {
  const cases: readonly (readonly [story: string, yaml: string, substrings: readonly string[]])[] = [
    ["a limit without its limit", "limits:\n  l:\n    window: 1s\n", ["sluice.yaml:3:5  limits.l.limit: required field is missing (number expected)"]],
    ["a limit without its window", "limits:\n  l:\n    limit: 5\n", ["sluice.yaml:3:5  limits.l.window: ", 'required field is missing (a duration such as "30s")']],
    ["a service without an upstream", "services:\n  s:\n    description: x\n", ["sluice.yaml:3:5  services.s.upstream: required field is missing"]],
    ["a consumer without keys", "consumers:\n  c:\n    plan: gold\n", ["sluice.yaml:3:5  consumers.c.keys: required field is missing (array expected)"]],
  ];
  for (const [story, yaml, substrings] of cases) {
    it(`reports ${story} as missing, at its parent`, () => assertOneProblem(yaml, substrings));
  }

  it("does not require a window for a concurrency limit", () => {
    const config = parseConfig("limits:\n  c: { algorithm: concurrency, limit: 2 }\n");
    assert.equal(config.limits["c"]?.window, undefined);
    assert.equal(config.limits["c"]?.limit, 2);
  });
});

describe("burst", () => {
  it("is accepted on a gcra limit", () => {
    const config = parseConfig("limits:\n  l: { algorithm: gcra, limit: 5, window: 1s, burst: 3 }\n");
    assert.equal(config.limits["l"]?.burst, 3);
  });

  it("is accepted when the algorithm is left to its default, gcra", () => {
    const config = parseConfig("limits:\n  l: { limit: 5, window: 1s, burst: 3 }\n");
    assert.equal(config.limits["l"]?.algorithm, "gcra");
    assert.equal(config.limits["l"]?.burst, 3);
  });

  for (const algorithm of ["fixed-window", "sliding-window-log", "sliding-window-counter"]) {
    it(`is refused on a ${algorithm} limit, saying it is for gcra only`, () => {
      assertOneProblem(`limits:\n  l:\n    algorithm: ${algorithm}\n    limit: 5\n    window: 1s\n    burst: 3\n`,
        ["sluice.yaml:6:12  limits.l.burst: burst applies to the gcra algorithm only"]);
    });
  }

  it("is refused on a token-bucket limit even when its capacity is given", () => {
    assertOneProblem("limits:\n  l: { algorithm: token-bucket, limit: 1, window: 1s, capacity: 2, burst: 2 }\n",
      ["limits.l.burst: burst applies to the gcra algorithm only"]);
  });
});

describe("duplicate API keys", () => {
  it("refuses one plaintext key given to two consumers, naming its first owner", () => {
    assertOneProblem("consumers:\n  a: { keys: [secret-key] }\n  b:\n    keys:\n      - other-key\n      - secret-key\n",
      ['sluice.yaml:6:9  consumers.b.keys.1: this key already belongs to consumer "a"']);
  });

  it("catches a key written in plaintext in one place and as its digest in another", () => {
    assertOneProblem(`consumers:\n  a: { keys: [secret-key] }\n  b: { keys: ["sha256:${sha256Hex("secret-key")}"] }\n`,
      ['sluice.yaml:3:15  consumers.b.keys.0: this key already belongs to consumer "a"']);
  });

  it("refuses a scope that names no service", () => {
    assertOneProblem("services:\n  shop: { upstream: \"http://127.0.0.1:9\" }\nconsumers:\n  a: { keys: [secret-key], scopes: [shop, billing] }\n",
      ['sluice.yaml:4:43  consumers.a.scopes.1: no service named "billing"']);
  });

  it("refuses the same key listed twice for one consumer", () => {
    assertOneProblem("consumers:\n  a: { keys: [secret-key, secret-key] }\n", ['consumers.a.keys.1: this key already belongs to consumer "a"']);
  });

  it("accepts distinct keys, plaintext and hashed side by side", () => {
    const digest = `sha256:${sha256Hex("bob-secret")}`;
    const config = parseConfig(`consumers:\n  alice: { keys: [alice-secret] }\n  bob: { keys: ["${digest}"], plan: gold }\n`);
    assert.deepEqual(config.consumers, { alice: { keys: ["alice-secret"] }, bob: { keys: [digest], plan: "gold" } });
  });
});

describe("the environment", () => {
  const file = DEMO_CONFIG_PATH;

  it("PORT replaces the file's port", async () => {
    const { config } = await loadConfig({ file, env: { PORT: "9090" } });
    assert.deepEqual(config.server, { host: "127.0.0.1", port: 9090, ipv6Prefix: 64, ...EDGE_LIMITS, shutdownTimeout: 30_000, statusHost: "127.0.0.1" });
  });

  it("HOST replaces the file's host", async () => {
    const { config } = await loadConfig({ file, env: { HOST: "0.0.0.0" } });
    assert.deepEqual(config.server, { host: "0.0.0.0", port: 8080, ipv6Prefix: 64, ...EDGE_LIMITS, shutdownTimeout: 30_000, statusHost: "127.0.0.1" });
  });

  it("PORT=0 asks for any free port", async () => {
    const { config } = await loadConfig({ file, env: { PORT: "0" } });
    assert.equal(config.server.port, 0);
  });

  it("empty PORT and HOST are ignored", async () => {
    const { config } = await loadConfig({ file, env: { PORT: "", HOST: "" } });
    assert.deepEqual(config.server, { host: "127.0.0.1", port: 8080, ipv6Prefix: 64, ...EDGE_LIMITS, shutdownTimeout: 30_000, statusHost: "127.0.0.1" });
  });

  it("leaves the rest of the config as the file says", async () => {
    const withEnv = await loadConfig({ file, env: { PORT: "9090", HOST: "0.0.0.0" } });
    const without = await loadConfig({ file, env: {} });
    assert.deepEqual({ ...withEnv.config, server: without.config.server }, without.config);
  });

  it("refuses limiter.store redis without REDIS_URL, and takes it with one", async () => {
    const redisFile = await fileWith("redis.yaml", "limiter: { store: redis }\n");
    await assert.rejects(loadConfig({ file: redisFile, env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems[0]?.path, "REDIS_URL");
      assert.match(error.message, /limiter\.store is "redis", so REDIS_URL must name the Redis/);
      return true;
    });
    const { config } = await loadConfig({ file: redisFile, env: { REDIS_URL: "redis://127.0.0.1:6379" } });
    assert.equal(config.limiter.store, "redis");
  });

  for (const port of ["abc", "65536", "-1", "80.5"]) {
    it(`refuses PORT=${JSON.stringify(port)}, naming the variable and the allowed range`, async () => {
      await assert.rejects(loadConfig({ file, env: { PORT: port } }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.source, "environment");
        assert.equal(error.message, `invalid configuration in environment:\n  environment  PORT: "${port}" is not a port number (0–65535)`);
        return true;
      });
    });
  }
});
