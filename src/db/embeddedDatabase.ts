/**
 * The embedded engine: PGlite, PostgreSQL in WebAssembly, storing its files in a directory and
 * running in a child process of its own (embeddedEngine.ts says why; embeddedProtocol.ts has the
 * messages).
 * One process owns the directory: a lock file holding its pid keeps a second one out (two
 * writers would corrupt it; several instances need the PostgreSQL engine). Durability is
 * PGlite's default: each statement's changes reach the files before its promise resolves, so a
 * process killed after a commit has returned loses nothing of it. The directory is private to the
 * user Sluice runs as (privateFiles.ts): it holds password hashes, in the tables and in the WAL.
 *
 * Memory (docs/deploy.md#sizing). The engine is PostgreSQL in one WebAssembly memory, which
 * grows and is never given back, so two settings keep its process small: `shared_buffers` is
 * 32 MB rather than PostgreSQL's 128 MB (the accounts' tables are small, and every buffer page
 * touched stays resident), and a first start creates the files (initdb) in a child process
 * (initEmbeddedDatabase.ts), whose memory leaves with it.
 */
import { execFile, fork, type ChildProcess } from "node:child_process";
import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Database, Queryable } from "./database.js";
import { rebuildError, type EngineReply, type EngineRequest } from "./embeddedProtocol.js";
import { makePrivate, PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE, restrictUmask } from "./privateFiles.js";

/** Another live process has the embedded database open. */
export class DatabaseInUse extends Error {
  readonly code = "SLUICE_ERR_DATABASE_IN_USE";
  constructor(readonly directory: string, readonly pid: number) {
    super(`the embedded database in ${directory} is open in process ${pid}; stop it, give this one another SLUICE_DATA_DIR, or share a PostgreSQL server through DATABASE_URL`);
    this.name = "DatabaseInUse";
  }
}

/** Siblings of this file (.ts under tsx, .js when built): the child that creates a new directory's files, and the engine's process. */
const sibling = (name: string) => fileURLToPath(new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const INIT_SCRIPT = sibling("initEmbeddedDatabase");
const ENGINE_SCRIPT = sibling("embeddedEngine");

export async function openEmbeddedDatabase(directory: string): Promise<Database> {
  restrictUmask();
  await mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const unlock = await lock(directory);
  let engine: EngineProcess | undefined;
  try {
    if (!(await hasDatabaseFiles(directory))) await initializeInChild(directory);
    engine = await EngineProcess.start(directory);
    // After the engine started: a new database's files were just written 0666, and an older
    // Sluice left its directory 0755.
    await makePrivate(directory);
  } catch (error) {
    await engine?.close();
    await unlock();
    throw error;
  }
  const running = engine;
  const queryable = (tx?: number): Queryable => ({
    query: <Row>(sql: string, params: readonly unknown[] = []) => running.call<Row[]>({ op: "query", sql, params, ...(tx !== undefined && { tx }) }),
    exec: async (script) => {
      await running.call({ op: "exec", script, ...(tx !== undefined && { tx }) });
    },
  });
  return {
    engine: "embedded",
    ...queryable(),
    transaction: async (work) => {
      const tx = await running.call<number>({ op: "begin" });
      let result;
      try {
        result = await work(queryable(tx));
      } catch (error) {
        await running.call({ op: "rollback", tx }).catch(() => undefined);
        throw error;
      }
      await running.call({ op: "commit", tx });
      return result;
    },
    listen: async (channel, handler) => {
      const listener = running.addListener(handler);
      await running.call({ op: "listen", listener, channel });
      return async () => {
        running.removeListener(listener);
        await running.call({ op: "unlisten", listener });
      };
    },
    notify: async (channel, payload) => {
      await running.call({ op: "query", sql: "select pg_notify($1, $2)", params: [channel, payload] });
    },
    close: async () => {
      await running.close();
      await unlock();
    },
  };
}

/** A request as a caller writes it: the id is the call's to give. */
type EngineCall = EngineRequest extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;

/**
 * The engine's process, from this side: each call sends a request and resolves with its reply.
 * The child keeps this process alive only while a call waits for its answer, as an idle
 * in-process engine did not.
 */
class EngineProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(reason: Error): void }>();
  readonly #listeners = new Map<number, (payload: string) => void>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #failure: Error | undefined;

  static async start(directory: string): Promise<EngineProcess> {
    const child = fork(ENGINE_SCRIPT, [directory], { execArgv: loaderArgs(), serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const engine = new EngineProcess(child);
    try {
      await new Promise((resolve, reject) => engine.#pending.set(0, { resolve, reject }));
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (reply: EngineReply) => this.#received(reply));
    child.on("error", (error) => this.#fail(error));
    this.#exited = new Promise((resolve) => child.once("exit", (code, signal) => {
      this.#fail(new Error(`the embedded database's process has stopped (${signal ?? `exit code ${code}`})`));
      resolve();
    }));
  }

  call<T = unknown>(request: EngineCall): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.#hold(true);
    this.#child.send({ ...request, id });
    return new Promise<T>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }

  addListener(handler: (payload: string) => void): number {
    const listener = this.#nextId++;
    this.#listeners.set(listener, handler);
    return listener;
  }

  removeListener(listener: number): void {
    this.#listeners.delete(listener);
  }

  /** Closes the engine's files, then lets it go: it exits once the channel is gone. */
  async close(): Promise<void> {
    if (this.#failure === undefined) await this.call({ op: "close" }).catch(() => undefined);
    this.#child.ref(); // until it has exited
    if (this.#child.connected) this.#child.disconnect();
    await this.#exited;
  }

  #received(reply: EngineReply): void {
    if ("payload" in reply) {
      this.#listeners.get(reply.listener)?.(reply.payload);
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#hold(false);
    if ("error" in reply) pending.reject(rebuildError(reply.error));
    else pending.resolve(reply.result);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  /** Whether the child (and its channel) keep this process's event loop alive. */
  #hold(waiting: boolean): void {
    if (waiting) {
      this.#child.ref();
      this.#child.channel?.ref();
    } else {
      this.#child.unref();
      this.#child.channel?.unref();
    }
  }
}

/** Whether initdb has run in `directory`: PostgreSQL writes PG_VERSION first thing. */
async function hasDatabaseFiles(directory: string): Promise<boolean> {
  return access(join(directory, "PG_VERSION")).then(() => true, () => false);
}

/** Runs initEmbeddedDatabase in a child process of this Node, with this Node's loaders (loaderArgs). */
async function initializeInChild(directory: string): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [...loaderArgs(), INIT_SCRIPT, directory], { maxBuffer: 1024 * 1024 });
  } catch (error) {
    const { stderr } = error as { stderr?: string | Buffer };
    const tail = (stderr ?? "").toString().trim().split("\n").slice(-3).join(" ");
    throw new Error(`could not create the embedded database in ${directory}: ${tail || (error as Error).message}`, { cause: error });
  }
}

/**
 * The loaders this Node was started with (tsx under the tests), for the init child and the
 * engine's process, and none of its other flags (`--test`, inspectors).
 */
function loaderArgs(): string[] {
  const loaders: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (/^--(import|require|loader|experimental-loader)=/.test(arg)) loaders.push(arg);
    else if (/^(--import|--require|-r|--loader|--experimental-loader)$/.test(arg) && args[i + 1] !== undefined) loaders.push(arg, args[++i]!);
  }
  return loaders;
}

/** Takes the lock file, or throws DatabaseInUse; a lock left by a dead process is taken over. */
async function lock(directory: string): Promise<() => Promise<void>> {
  const file = join(directory, "sluice.lock");
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: "wx", mode: PRIVATE_FILE_MODE });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number(await readFile(file, "utf8").catch(() => ""));
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) throw new DatabaseInUse(directory, holder);
    await rm(file, { force: true }); // stale: its process is gone (a crash, a kill -9)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
