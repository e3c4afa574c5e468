// The embedded database's files hold password hashes (in its tables and its write-ahead log), so
// they are the Sluice user's alone: a new data directory is made 0700 with files 0600, whatever
// the umask Sluice was started with; a directory an older Sluice left readable to everyone is
// made private when it is opened; files the engine creates while it runs are private too; a
// directory holding a file whose mode cannot be set is not opened, with an error that names the
// file and the chown that fixes it; and the systemd unit asks for the same.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { embeddedDatabaseDirectory, openDatabase } from "../../src/db/openDatabase.js";
import type { Database } from "../../src/db/database.js";
import { DataDirNotPrivate } from "../../src/db/privateFiles.js";
import { makeImmutable } from "../support/immutableFile.js";

const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-modes-"));
  scratch.push(dir);
  return dir;
}

/** Every path under `root` whose permission bits are not `0700` (directories) or `0600` (files), with its mode. */
async function notPrivate(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (path: string) => {
    const stats = await lstat(path);
    const mode = stats.mode & 0o777;
    if (stats.isDirectory()) {
      if (mode !== 0o700) found.push(`${path} ${mode.toString(8)}`);
      for (const name of await readdir(path)) await visit(join(path, name));
    } else if (stats.isFile() && mode !== 0o600) {
      found.push(`${path} ${mode.toString(8)}`);
    }
  };
  await visit(root);
  return found;
}

/** Sets every directory under `root` to 0755 and every file to 0666, as Sluice used to leave them. */
async function makeWorldReadable(root: string): Promise<void> {
  await chmod(root, 0o755);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) await makeWorldReadable(path);
    else await chmod(path, 0o666);
  }
}

describe("the embedded database's files", () => {
  let dataDir: string;
  let db: Database;
  before(async () => {
    // The usual umask of a login shell: without care, directories 0755 and PGlite's files 0666.
    process.umask(0o022);
    dataDir = await scratchDir();
    db = await openDatabase({ dataDir });
  });
  after(async () => {
    await db.close();
  });

  it("are created by a child process (initdb's memory leaves with it) and served with 32 MB of shared buffers", async () => {
    // The directory was new: its files exist only if the child (initEmbeddedDatabase.ts) ran under tsx too.
    await readFile(join(embeddedDatabaseDirectory(dataDir), "PG_VERSION"), "utf8");
    assert.deepEqual(await db.query("show shared_buffers"), [{ shared_buffers: "32MB" }]);
  });

  it("are the Sluice user's alone in a new data directory: directories 0700, files 0600", async () => {
    const directory = embeddedDatabaseDirectory(dataDir);
    assert.ok((await readdir(join(directory, "pg_wal"))).length > 0, "the write-ahead log is there");
    assert.deepEqual(await notPrivate(directory), []);
  });

  it("stay private as the engine writes: a new table, and rows enough for a new WAL segment", async () => {
    const wal = join(embeddedDatabaseDirectory(dataDir), "pg_wal");
    const segments = new Set(await readdir(wal));
    await db.exec("create table filler (id int primary key, text text)");
    // Random, so compression cannot shrink it below a 16 MiB segment.
    for (let i = 0; i < 100; i++) await db.query("insert into filler values ($1, $2)", [i, randomBytes(100_000).toString("hex")]);
    await db.exec("checkpoint");
    assert.ok((await readdir(wal)).some((name) => !segments.has(name)), "a new WAL segment");
    assert.deepEqual(await notPrivate(embeddedDatabaseDirectory(dataDir)), []);
  });
});

describe("a data directory an older Sluice left readable to everyone", () => {
  it("is made private when it is opened", async () => {
    const dataDir = await scratchDir();
    await (await openDatabase({ dataDir })).close();
    const directory = embeddedDatabaseDirectory(dataDir);
    await makeWorldReadable(directory);
    assert.notDeepEqual(await notPrivate(directory), []);

    const db = await openDatabase({ dataDir });
    try {
      assert.deepEqual(await notPrivate(directory), []);
    } finally {
      await db.close();
    }
  });
});

describe("a data directory holding a file whose mode cannot be set", () => {
  it("is not opened: the error names the file and the chown that fixes it, and leaves the directory to the next open", async (t) => {
    const dataDir = await scratchDir();
    await (await openDatabase({ dataDir })).close();
    const directory = embeddedDatabaseDirectory(dataDir);
    const stuck = join(directory, "copied-in-by-root");
    await writeFile(stuck, "");
    const undo = await makeImmutable(stuck);
    if (undo === undefined) return t.skip("needs root and chattr here, to make a file whose chmod fails");
    try {
      await assert.rejects(openDatabase({ dataDir }), (error: unknown) => {
        assert.ok(error instanceof DataDirNotPrivate, String(error));
        assert.equal(error.code, "SLUICE_ERR_DATA_DIR_NOT_PRIVATE");
        assert.equal(error.path, stuck);
        assert.equal(error.directory, directory);
        assert.equal(error.owner, 0);
        assert.equal(error.message, `cannot make ${stuck} private to the user Sluice runs as (uid 0; the file's owner is uid 0): EPERM. Every file in ${directory} must belong to that user: chown -R 0 ${directory}`);
        return true;
      });
    } finally {
      undo();
    }
    // Fixed, it opens: the failed open closed the engine and gave back its lock.
    await (await openDatabase({ dataDir })).close();
    assert.deepEqual(await notPrivate(directory), []);
  });
});

describe("the systemd unit", () => {
  it("creates the state directory 0700 and gives Sluice a umask that keeps its files private", async () => {
    const unit = await readFile(new URL("../../deploy/sluice.service", import.meta.url), "utf8");
    const settings = unit.split("\n").filter((line) => /^[A-Za-z]+=/.test(line));
    assert.ok(settings.includes("StateDirectoryMode=0700"), "StateDirectoryMode=0700");
    assert.ok(settings.includes("UMask=0077"), "UMask=0077");
  });
});
