// Logs are JSON lines for machines, pretty lines for a person at a terminal, and never hold a
// credential: the CLI's logger decides by whether stdout is a TTY.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { promisify, stripVTControlCharacters } from "node:util";
import { createLogger } from "../../src/observability/logger.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const LOG_ONE_LINE = 'const { createStdoutLogger } = await import("./src/observability/logger.js"); (await createStdoutLogger("info")).info({ requestId: "r-1", status: 200 }, "request");';
const NODE_ARGS = ["--import", "tsx", "--input-type=module", "--eval", LOG_ONE_LINE];

describe("createLogger", () => {
  it("writes JSON lines named sluice, with credential headers redacted", () => {
    const chunks: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done(); } });
    createLogger("info", sink).warn({ req: { headers: { "x-api-key": "sk_secret", authorization: "Bearer t", cookie: "s=1", accept: "*/*" } } }, "odd request");
    const line = JSON.parse(chunks.join("")) as Record<string, unknown>;
    assert.equal(line["name"], "sluice");
    assert.equal(line["msg"], "odd request");
    assert.deepEqual(line["req"], { headers: { "x-api-key": "[redacted]", authorization: "[redacted]", cookie: "[redacted]", accept: "*/*" } });
  });

  it("writes nothing below its level", () => {
    const chunks: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done(); } });
    const logger = createLogger("warn", sink);
    logger.info("not this");
    logger.warn("this");
    assert.deepEqual(chunks.map((c) => (JSON.parse(c) as { msg: string }).msg), ["this"]);
  });
});

describe("the CLI's logger (createStdoutLogger)", () => {
  it("writes JSON lines when stdout is a pipe", async () => {
    const { stdout } = await run(process.execPath, NODE_ARGS, { cwd: ROOT });
    const line = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual([line["name"], line["msg"], line["requestId"], line["status"]], ["sluice", "request", "r-1", 200]);
  });

  it("pretty-prints one line per entry when stdout is a terminal", async () => {
    // util-linux `script` runs the command on a pseudo-terminal and copies what it prints.
    const command = [process.execPath, ...NODE_ARGS].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
    const { stdout } = await run("script", ["-qec", command, "/dev/null"], { cwd: ROOT });
    const plain = stripVTControlCharacters(stdout).trim();
    assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(sluice\): request \{"requestId":"r-1","status":200\}$/);
  });
});

describe("the access log's logger (createAccessLogger)", () => {
  // A child process logs on a pipe, as a gateway under a process manager does.
  const script = (code: string) => ["--import", "tsx", "--input-type=module", "--eval",
    `const { createAccessLogger, createLogger } = await import("./src/observability/logger.js"); const access = createAccessLogger(createLogger("info")); ${code}`];

  it("writes lines in batches, and every one of them, whole and in order, once flushed", async () => {
    // About 36 KB in all, ten batches: less than a pipe holds (64 KiB), so no write waits for
    // a slow reader (a full pipe would queue "held" behind the flush, whatever the batching).
    const { stdout } = await run(process.execPath, script(`
      for (let i = 0; i < 200; i++) access.logger.info({ n: i, path: "/api/users/" + "x".repeat(i % 100) }, "request");
      process.stdout.write("held\\n"); // written at once: it lands before the lines the logger still holds
      access.flush();`), { cwd: ROOT });
    const lines = stdout.trimEnd().split("\n");
    const held = lines.indexOf("held");
    assert.ok(held > 0 && held < 200, `batches were written as they filled, and the last was still held (held at line ${held})`);
    const logged = lines.filter((line) => line !== "held").map((line) => JSON.parse(line) as { n: number; msg: string; name: string });
    assert.deepEqual(logged.map((line) => line.n), Array.from({ length: 200 }, (_, i) => i));
    assert.ok(logged.every((line) => line.msg === "request" && line.name === "sluice"));
  });

  it("writes a lone line within a second, with no flush and no exit", { timeout: 10_000 }, async () => {
    const child = spawn(process.execPath, script(`access.logger.info({ n: 1 }, "request"); setInterval(() => {}, 1000);`), { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const [chunk] = (await once(child.stdout, "data")) as [Buffer];
      assert.equal((JSON.parse(chunk.toString()) as { n: number }).n, 1);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
