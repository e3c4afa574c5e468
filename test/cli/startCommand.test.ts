// `sluice start`'s banner, from a real process: the gateway's address, and the gRPC rate-limit
// service's when `server.grpcPort` turns it on — the port it really listens on, which answers
// Envoy's ShouldRateLimit. And what it says instead when the embedded database cannot be made
// private: which file, and the chown that fixes it, without a stack trace.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { grpcAddress, startBanner } from "../../src/cli/startCommand.js";
import { envoyRlsClient } from "../service/grpc/envoyRlsClient.js";
import { makeImmutable } from "../support/immutableFile.js";
import { freshDataDir } from "../support/sluiceProcess.js";

const SLUICE = fileURLToPath(new URL("../../src/cli/sluice.ts", import.meta.url));

describe("the start banner", () => {
  it("names the gRPC service only when it is on, an IPv6 host in brackets", () => {
    assert.doesNotMatch(startBanner("http://127.0.0.1:8080", undefined), /grpc/);
    assert.match(startBanner("http://127.0.0.1:8080", "127.0.0.1:8081"), /^ {2}grpc: +127\.0\.0\.1:8081 /m);
    assert.equal(grpcAddress("::1", 8081), "[::1]:8081");
    assert.equal(grpcAddress("0.0.0.0", undefined), undefined);
  });

  describe("printed by a running `sluice start` with server.grpcPort: 0", () => {
    let dir: string | undefined;
    let stop: (() => Promise<unknown>) | undefined;
    after(async () => {
      await stop?.();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it("gives the gRPC address it listens on, where ShouldRateLimit answers", async () => {
      dir = await mkdtemp(join(tmpdir(), "sluice-banner-"));
      const config = join(dir, "sluice.yaml");
      await writeFile(config, "server: { grpcPort: 0 }\nconsumers:\n  demo: { keys: [secret-key] }\n");
      const child = spawn(process.execPath, ["--import", "tsx", SLUICE, "start", "--config", config, "--port", "0"], {
        env: { PATH: process.env["PATH"], LOG_LEVEL: "warn", SLUICE_DATA_DIR: await freshDataDir() },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = once(child, "exit");
      stop = () => (child.kill("SIGTERM"), exited);

      // The banner ends with an empty line; read stdout until it has (and keep reading after).
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          if (/Sluice is ready at [^]*\n\n/.test(stdout)) resolve();
        });
        void exited.then(([code]) => reject(new Error(`sluice exited with code ${String(code)} before its banner:\n${stdout}\n${stderr}`)));
      });
      const url = /Sluice is ready at (http:\/\/\S+)/.exec(stdout)?.[1];
      const grpc = /^ {2}grpc: +(127\.0\.0\.1:(\d+)) /m.exec(stdout);
      assert.ok(url !== undefined && grpc !== null, stdout);
      assert.notEqual(Number(grpc[2]), 0, "the port it picked, not the 0 it was given");

      const client = envoyRlsClient(grpc[1]!);
      try {
        await assert.rejects(client.shouldRateLimit({ domain: "no-such-policy", descriptors: [{ entries: [{ key: "k", value: "v" }] }] }), { code: 5 }); // NOT_FOUND
      } finally {
        client.close();
      }
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
    });
  });
});

describe("`sluice start` on a data directory holding a file whose mode cannot be set", () => {
  it("exits 2 (a misconfiguration: systemd does not restart it), naming the file and the chown that fixes it, without a stack trace", async (t) => {
    const dataDir = await freshDataDir();
    const stuck = join(dataDir, "db", "copied-in-by-root");
    await writeFile(stuck, "");
    const undo = await makeImmutable(stuck);
    if (undo === undefined) return t.skip("needs root and chattr here, to make a file whose chmod fails");
    try {
      const child = spawn(process.execPath, ["--import", "tsx", SLUICE, "start", "--port", "0"], {
        env: { PATH: process.env["PATH"], LOG_LEVEL: "warn", SLUICE_DATA_DIR: dataDir },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      assert.equal(code, 2, stderr);
      const directory = join(dataDir, "db");
      assert.match(stderr, new RegExp(`^sluice: the embedded database in ${directory} cannot be made private: ${stuck} belongs to uid 0, and its mode cannot be set \\(SLUICE_ERR_DATA_DIR_NOT_PRIVATE\\)$`, "m"));
      assert.match(stderr, new RegExp(`chown -R 0 ${directory}$`, "m"));
      assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
    } finally {
      undo();
    }
  });
});
