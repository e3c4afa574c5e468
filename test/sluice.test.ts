// Starting Sluice: the demo services a config refers to are started and wired in; a config
// that needs them when they are off, or names one that does not exist, is refused; plaintext
// keys on a non-loopback address draw a warning.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { ConfigError, parseConfig } from "../src/config/loader.js";
import { startSluice } from "../src/sluice.js";

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

const WARN = 40;

async function warningsFor(yaml: string): Promise<string[]> {
  const { logger, lines } = capturedLogger();
  const sluice = await startSluice({ config: parseConfig(yaml), logger });
  await sluice.close();
  return lines.filter((l) => l.level === WARN).map((l) => l.msg);
}

describe("plaintext API keys", () => {
  it("draw a warning when Sluice listens beyond loopback", async () => {
    // A status listener keeps /metrics off the public port, and its warning out of this story.
    const warnings = await warningsFor("server: { host: 0.0.0.0, port: 0, statusPort: 0 }\nconsumers:\n  demo: { keys: [secret-key] }\n");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /plaintext API keys/);
  });

  it("are fine on loopback", async () => {
    assert.deepEqual(await warningsFor("server: { host: 127.0.0.1, port: 0 }\nconsumers:\n  demo: { keys: [secret-key] }\n"), []);
  });

  it("are not involved when every key is a hash", async () => {
    const hashed = `sha256:${"ab".repeat(32)}`;
    assert.deepEqual(await warningsFor(`server: { host: 0.0.0.0, port: 0, statusPort: 0 }\nconsumers:\n  demo: { keys: ["${hashed}"] }\n`), []);
  });
});

describe("demo upstreams", () => {
  it("start the demo services the config names, on free ports, and only those", async () => {
    const sluice = await startSluice({ config: parseConfig("server: { port: 0 }\nservices:\n  people: { upstream: demo://users }\n"), logger: pino({ level: "silent" }) });
    try {
      assert.deepEqual([...sluice.demo!.urls.keys()], ["users"]);
      const direct = await fetch(`${sluice.demo!.urls.get("users")}/users/102`);
      assert.deepEqual(await direct.json(), { user_id: 102, name: "Anagha", segment: "luxury" });
    } finally {
      await sluice.close();
    }
  });

  it("are refused when the demo services are turned off", async () => {
    const config = parseConfig("server: { port: 0 }\nservices:\n  people: { upstream: demo://users }\n");
    await assert.rejects(startSluice({ config, demo: false, logger: pino({ level: "silent" }) }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems[0]?.path, "services.people.upstream");
      return true;
    });
  });

  it("must name a demo service that exists, which the config check catches with its line", () => {
    assert.throws(() => parseConfig("services:\n  x: { upstream: demo://weather }\n", "t.yaml"), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual([error.problems[0]?.line, error.problems[0]?.path], [2, "services.x.upstream"]);
      assert.match(error.problems[0]!.message, /demo:\/\/users, demo:\/\/recommendations, demo:\/\/random-number/);
      return true;
    });
  });
});
