// The Dockerfile, replayed without Docker (this machine has no Docker daemon): the real file is
// parsed and its two stages run as Docker would, each in a directory of its own.
// - build: exactly its COPY sources (filtered by .dockerignore, as the build context is) go into
//   an empty directory, then its RUN commands run there in order (npm ci, build, prune).
// - runtime: a second empty directory gets exactly what its COPY and COPY --from=build lines copy;
//   the build directory is then deleted, so nothing can be read from it. ENTRYPOINT + CMD run
//   there with the stage's ENV (a free port for PORT, a temporary SLUICE_DATA_DIR).
// So a runtime import of a dev dependency (pruned away), or a file read at run time that no COPY
// brings, fails here: it runs the default CMD (the demo config in examples/), then, as
// docs/deploy.md does, `start --config` a mounted file with the gRPC service on (proto/). What needs Docker itself is skipped (the FROM image, useradd, USER, VOLUME,
// EXPOSE), but the HEALTHCHECK's own command is run against the live process, and must fail
// once it has stopped. The image's paths are checked to agree: the data dir is the volume and the
// user's home, EXPOSE is PORT, and the process writes nothing in WORKDIR (root's, in the image).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { envoyRlsClient } from "../service/grpc/envoyRlsClient.js";
import { freePort } from "../support/freePort.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** Each step's bound: a whole cold npm ci plus a tsc build must fit. */
const STEP_TIMEOUT_MS = 180_000;

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** Stages, in order: continuation lines joined, comments and blank lines dropped (Docker's default escape `\`). */
function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line) || (pending === "" && line.trim() === "")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const whole = (pending + line).trim();
    pending = "";
    const keyword = whole.split(/\s+/)[0] ?? "";
    instructions.push({ keyword: keyword.toUpperCase(), args: whole.slice(keyword.length).trim() });
  }
  const stages: { name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") stages.push({ name: /\sAS\s+(\S+)$/i.exec(instruction.args)?.[1], instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** The exec (JSON array) form of CMD, ENTRYPOINT and HEALTHCHECK CMD: the one that needs no shell. */
function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  assert.ok(Array.isArray(parsed) && parsed.every((part) => typeof part === "string"), `not the exec form: ${args}`);
  return parsed;
}

/** `COPY [--from=STAGE] SRC... DEST` */
function copyArgs(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  assert.ok(flags.every((f) => f.startsWith("--from=")), `a COPY flag the replay does not know: ${args}`);
  const paths = words.filter((w) => !w.startsWith("--"));
  assert.ok(paths.length >= 2, `COPY needs a source and a destination: ${args}`);
  return { from: flags[0]?.slice("--from=".length), sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** `ENV K=V K2="V 2"`, or the legacy `ENV K V`. */
function envPairs(args: string): Record<string, string> {
  if (!/^\S+=/.test(args)) {
    const [name = "", ...value] = args.split(/\s+/);
    return { [name]: value.join(" ") };
  }
  return Object.fromEntries([...args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)].map((m) => [m[1]!, m[3] ?? m[2]!]));
}

/**
 * The build context's filter: whether .dockerignore leaves `path` (relative, `/`-separated) in.
 * The last pattern that matches decides; a pattern matching a directory covers what is in it.
 */
function dockerignoreFilter(text: string): (path: string) => boolean {
  const rules = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((line) => {
    const include = line.startsWith("!");
    const pattern = posix.normalize((include ? line.slice(1) : line).replace(/^\/+/, "")).replace(/\/+$/, "");
    assert.doesNotMatch(pattern, /\*\*|\?|\[/, `a .dockerignore pattern the replay does not know: ${line}`);
    const segment = pattern.split("/").map((part) => part.split("*").map((s) => s.replace(/[.+^${}()|\\]/g, "\\$&")).join("[^/]*")).join("/");
    return { include, matches: new RegExp(`^${segment}(/.*)?$`) };
  });
  return (path) => {
    let included = true;
    for (const rule of rules) if (rule.matches.test(path)) included = rule.include;
    return included;
  };
}

/**
 * Copies one COPY source as Docker does: a directory's contents into DEST; a file into DEST when
 * DEST ends with `/`, else to DEST. `dest` is as written in the Dockerfile, relative to `workdir`.
 */
async function dockerCopy(source: string, workdir: string, dest: string, filter: (path: string) => boolean = () => true, move = false): Promise<void> {
  const isDirectory = (await stat(source)).isDirectory();
  const target = isDirectory || !dest.endsWith("/") ? join(workdir, dest) : join(workdir, dest, basename(source));
  await mkdir(dirname(target), { recursive: true });
  // From the build stage, which is deleted once the runtime stage is assembled: a move is that copy,
  // without copying node_modules file by file. A source taken twice would fail here, not pass.
  if (move) return rename(source, target);
  // verbatimSymlinks: node_modules/.bin links stay relative, so none points back into the build stage.
  await cp(source, target, { recursive: true, verbatimSymlinks: true, filter: (from) => filter(from) });
}

/** Runs a command to its end; resolves with its exit code and output. */
async function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, output };
}

describe("the Dockerfile, replayed without Docker", { timeout: 4 * STEP_TIMEOUT_MS }, () => {
  let build: Stage;
  let runtime: Stage;
  let work: string;
  let buildDir: string;
  let appDir: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  /** The image's process, while one runs. */
  let gateway: ChildProcess | undefined;
  let exited: Promise<unknown[]>;
  let url: string;
  let filesAtStart: string[] = [];

  before(async () => {
    const stages = parseDockerfile(await readFile(join(REPO, "Dockerfile"), "utf8"));
    assert.equal(stages.length, 2, "two stages: build, then runtime");
    [build, runtime] = stages as [Stage, Stage];
    assert.equal(build.name, "build");
    work = await mkdtemp(join(tmpdir(), "sluice-dockerfile-"));
    [buildDir, appDir, dataDir] = [join(work, "build"), join(work, "app"), join(work, "data")];
    await Promise.all([buildDir, appDir, dataDir].map((dir) => mkdir(dir)));
  });
  after(async () => {
    if (gateway?.exitCode === null) {
      gateway.kill("SIGKILL");
      await exited;
    }
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  /** The stage's WORKDIR, and the directory standing in for it. */
  const workdir = (stage: Stage) => {
    const dirs = stage.instructions.filter((i) => i.keyword === "WORKDIR").map((i) => i.args);
    assert.equal(dirs.length, 1, "one WORKDIR per stage");
    return dirs[0]!;
  };

  it("builds: the build stage's COPY sources alone, then its RUN commands in order", { timeout: STEP_TIMEOUT_MS }, async () => {
    const ignore = dockerignoreFilter(await readFile(join(REPO, ".dockerignore"), "utf8"));
    const contextFilter = (path: string) => {
      const inRepo = relative(REPO, path).split(sep).join("/");
      return inRepo === "" || ignore(inRepo);
    };
    workdir(build);
    for (const { keyword, args } of build.instructions) {
      if (keyword === "WORKDIR") continue;
      if (keyword === "COPY") {
        const { from, sources, dest } = copyArgs(args);
        assert.equal(from, undefined, "the build stage copies from the build context only");
        for (const source of sources) {
          assert.ok(contextFilter(join(REPO, source)), `.dockerignore leaves ${source} out of the build context: COPY would fail`);
          await dockerCopy(join(REPO, source), buildDir, dest, contextFilter);
        }
      } else if (keyword === "RUN") {
        // Docker's shell form: /bin/sh -c, in WORKDIR, with no NODE_ENV (the stage sets no ENV).
        const { code, output } = await run("/bin/sh", ["-c", args], { cwd: buildDir, env: { PATH: process.env["PATH"], HOME: process.env["HOME"] } });
        assert.equal(code, 0, `RUN ${args}\n${output}`);
      } else {
        assert.fail(`the build stage has ${keyword}, which the replay does not know`);
      }
    }
    await stat(join(buildDir, "dist/cli/sluice.js"));
  });

  it("assembles the runtime stage from its COPY lines alone; the rest needs Docker and agrees with ENV", async () => {
    const from = workdir(build);
    workdir(runtime);
    env = {};
    const volumes: string[] = [];
    let home: string | undefined;
    for (const { keyword, args } of runtime.instructions) {
      if (keyword === "COPY") {
        const { from: stage, sources, dest } = copyArgs(args);
        for (const source of sources) {
          let path = join(REPO, source);
          if (stage !== undefined) {
            assert.equal(stage, build.name, `COPY --from=${stage}: no such stage`);
            assert.ok(!posix.relative(from, source).startsWith(".."), `COPY --from=build ${source}: outside the build stage's WORKDIR ${from}`);
            path = join(buildDir, posix.relative(from, source));
          }
          await dockerCopy(path, appDir, dest, undefined, stage !== undefined);
        }
      } else if (keyword === "ENV") {
        Object.assign(env, envPairs(args));
      } else if (keyword === "RUN") {
        // The only RUN makes the image's user: root and Docker's business, not the replay's.
        assert.match(args, /^useradd\s/, `a runtime RUN the replay does not know: ${args}`);
        home = /--home-dir\s+(\S+)/.exec(args)?.[1];
      } else if (keyword === "VOLUME") {
        volumes.push(...args.split(/\s+/));
      } else if (keyword === "EXPOSE") {
        assert.equal(args, env["PORT"], "EXPOSE is the PORT the process listens on");
      } else if (!["WORKDIR", "USER", "HEALTHCHECK", "ENTRYPOINT", "CMD"].includes(keyword)) {
        assert.fail(`the runtime stage has ${keyword}, which the replay does not know`);
      }
    }
    assert.equal(env["NODE_ENV"], "production");
    assert.ok(env["SLUICE_DATA_DIR"] !== undefined && volumes.includes(env["SLUICE_DATA_DIR"]), "the embedded database lives in the volume");
    assert.equal(home, env["SLUICE_DATA_DIR"], "the image's user owns the data dir (its home)");
    // From here on the runtime stage stands alone.
    await rm(buildDir, { recursive: true, force: true });
  });

  /** `docker run IMAGE [CMD...]`: ENTRYPOINT + CMD (or the given one) in WORKDIR with the ENV; resolves once its banner is out. */
  const runImage = async (cmd?: readonly string[]) => {
    const entrypoint = execForm(runtime.instructions.find((i) => i.keyword === "ENTRYPOINT")!.args);
    const [command = "", ...args] = [...entrypoint, ...(cmd ?? execForm(runtime.instructions.find((i) => i.keyword === "CMD")!.args))];
    const child = spawn(command, args, { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] });
    gateway = child;
    exited = once(child, "exit");
    let [stdout, stderr] = ["", ""];
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        // The banner ends with an empty line.
        if (/Sluice is ready at [^]*\n\n/.test(stdout)) resolve();
      });
      void exited.then(([code]) => reject(new Error(`exited with code ${String(code)} before it was ready\n${stdout}\n${stderr}`)));
    });
    return stdout;
  };
  /** `docker stop`: SIGTERM, then how it ended. */
  const stopImage = async () => {
    gateway!.kill("SIGTERM");
    const [code, signal] = await exited;
    return { code, signal };
  };

  it("starts with its ENTRYPOINT and CMD: /healthz and /readyz answer 200", { timeout: 60_000 }, async () => {
    env = { ...env, PATH: process.env["PATH"], HOME: dataDir, PORT: String(await freePort()), SLUICE_DATA_DIR: dataDir };
    filesAtStart = await readdir(appDir, { recursive: true });
    const banner = await runImage();
    // HOST=0.0.0.0: reach it on loopback, where the HEALTHCHECK does.
    assert.equal(new URL(/Sluice is ready at (\S+)/.exec(banner)![1]!).port, env["PORT"]);
    url = `http://127.0.0.1:${env["PORT"]}`;
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(url + path);
      assert.equal(response.status, 200, `${path}: ${await response.text()}`);
    }
  });

  it("passes the demo key (examples/sluice.yaml, the default config) through to a demo service", async () => {
    const demo = parseYaml(await readFile(join(appDir, "examples/sluice.yaml"), "utf8")) as { consumers: { demo: { keys: string[] } } };
    const response = await fetch(`${url}/api/users/users/104`, { headers: { "x-api-key": demo.consumers.demo.keys[0]! } });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(typeof (await response.json()), "object");
    const refused = await fetch(`${url}/api/users/users/104`);
    await refused.body?.cancel();
    assert.equal(refused.status, 401, "and refuses a call without a key");
  });

  /** The HEALTHCHECK's own command, run as Docker runs it: in WORKDIR with the image's ENV. */
  const healthcheck = async () => {
    const line = runtime.instructions.find((i) => i.keyword === "HEALTHCHECK")!.args;
    const [command = "", ...args] = execForm(line.slice(line.indexOf(" CMD ") + " CMD ".length));
    return run(command, args, { cwd: appDir, env });
  };

  it("passes its HEALTHCHECK while it runs", async () => {
    const { code, output } = await healthcheck();
    assert.equal(code, 0, output);
  });

  it("drains on SIGTERM and exits 0 (docker stop); the HEALTHCHECK then fails", { timeout: 60_000 }, async () => {
    assert.deepEqual(await stopImage(), { code: 0, signal: null });
    assert.equal((await healthcheck()).code, 1);
  });

  it("runs a mounted config with server.grpcPort (start --config FILE): proto/ is there, ShouldRateLimit answers", { timeout: 60_000 }, async () => {
    // As docs/deploy.md runs it: the config from a volume, outside WORKDIR.
    const config = join(work, "etc/sluice.yaml");
    await mkdir(dirname(config));
    await writeFile(config, "server: { grpcPort: 0 }\nconsumers:\n  demo: { keys: [secret-key] }\n");
    const banner = await runImage(["start", "--config", config]);
    const port = /^ {2}grpc: +\S+:(\d+) /m.exec(banner)?.[1];
    assert.ok(port !== undefined && port !== "0", `the banner names the gRPC port it picked:\n${banner}`);
    const client = envoyRlsClient(`127.0.0.1:${port}`);
    try {
      // NOT_FOUND (5): the service runs, with its definitions read from proto/; it has no such policy.
      await assert.rejects(client.shouldRateLimit({ domain: "no-such-policy", descriptors: [{ entries: [{ key: "k", value: "v" }] }] }), { code: 5 });
    } finally {
      client.close();
    }
    assert.deepEqual(await stopImage(), { code: 0, signal: null });
  });

  it("wrote nothing beside its data dir: WORKDIR is root's in the image, the process runs as another user", async () => {
    assert.deepEqual((await readdir(appDir, { recursive: true })).sort(), filesAtStart.sort());
  });
});
