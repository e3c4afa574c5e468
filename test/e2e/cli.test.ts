// The `sluice` command as a user meets it: a bad config stops it before anything starts, with
// the file, line and fix; check-config validates; --no-demo refuses demo upstreams; the demo
// services run on their own; SIGTERM shuts down cleanly.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLI, runCli, startCli } from "../support/sluiceProcess.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-cli-"));
});
after(() => rm(dir, { recursive: true, force: true }));

async function configFile(name: string, yaml: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, yaml);
  return path;
}

describe("a bad configuration", () => {
  it("exits 2 with file:line:column, the path and the fix, and starts nothing", async () => {
    const path = await configFile("bad.yaml", [
      "limits:",
      "  per-client: { limit: 5, window: 30 seconds }",
      "services:",
      "  users:",
      "    upstrem: http://127.0.0.1:9000",
    ].join("\n"));
    const result = await runCli(["start", "--config", path]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`${path}:2:\\d+ +limits\\.per-client\\.window: write a positive duration with a unit`));
    assert.match(result.stderr, new RegExp(`${path}:5:\\d+ +services\\.users\\.upstrem: unknown field "upstrem"`));
    assert.match(result.stderr, /services\.users\.upstream: required field is missing/);
    assert.match(result.stderr, /Nothing was started\./);
    assert.doesNotMatch(result.stdout, /ready/);
  });

  it("exits 2 on YAML that does not parse, naming the line", async () => {
    const path = await configFile("syntax.yaml", "services:\n  users: { upstream: http://x\n");
    const result = await runCli(["start", "--config", path]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`${path}:\\d+:\\d+`));
  });

  it("exits 2 when the file does not exist", async () => {
    const result = await runCli(["start", "--config", join(dir, "missing.yaml")]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /file not found/);
  });

  it("exits 2 when PORT, or the --port that overrides it, is not a port", async () => {
    for (const [args, env] of [[["start"], { PORT: "http" }], [["start", "--port", "http"], { PORT: "8080" }]] as const) {
      const result = await runCli(args, env);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /PORT: "http" is not a port number/);
    }
  });

  it("exits 2 on an unknown LOG_LEVEL instead of crashing", async () => {
    const result = await runCli(["check-config"], { LOG_LEVEL: "loud" });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /LOG_LEVEL "loud" is not one of fatal, error, warn, info, debug, trace, silent/);
  });

  it("takes the file from SLUICE_CONFIG too", async () => {
    const path = await configFile("env.yaml", "servces: {}\n");
    const result = await runCli(["check-config"], { SLUICE_CONFIG: path });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown field "servces"/);
  });
});

describe("check-config", () => {
  it("accepts the shipped demo config", async () => {
    const result = await runCli(["check-config"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /examples\/sluice\.yaml: valid \(3 services, 2 limits, 1 consumers\)/);
  });
});

describe("--no-demo", () => {
  it("refuses a config whose upstreams are demo services", async () => {
    const result = await runCli(["start", "--no-demo"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /services\.users\.upstream: demo:\/\/users needs the demo services/);
  });

  it("starts the gateway alone against real upstreams", async () => {
    const demo = await runDemo();
    try {
      const path = await configFile("real.yaml", `services:\n  users: { upstream: "${demo.url}" }\nconsumers:\n  me: { keys: [my-key-123] }\n`);
      const sluice = await startCli(["--config", path, "--no-demo"]);
      const response = await fetch(`${sluice.url}/api/users/users/101`, { headers: { "x-api-key": "my-key-123" } });
      assert.deepEqual(await response.json(), { user_id: 101, name: "Atul", segment: "premium" });
      assert.equal((await sluice.stop()).code, 0);
    } finally {
      demo.stop();
    }
  });
});

describe("--port and --host", () => {
  it("override PORT and HOST", async () => {
    const sluice = await startCli(["--port", "0", "--host", "127.0.0.1"], { PORT: "http", HOST: "192.0.2.1" });
    assert.match(sluice.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${sluice.url}/healthz`)).status, 200);
    assert.equal((await sluice.stop()).code, 0);
  });
});

describe("unknown commands and options", () => {
  it("exits 2 with the usage", async () => {
    const result = await runCli(["launch"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "launch"/);
    assert.match(result.stderr, /Usage: sluice <command>/);
  });

  it("prints the usage for help, exit 0", async () => {
    const result = await runCli(["help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /check-config/);
  });
});

/** `sluice demo users` on a free port, read from its output. */
async function runDemo(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [CLI, "demo", "users"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("demo did not start")), 15_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /users: (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return { url, stop: () => child.kill("SIGTERM") };
}
