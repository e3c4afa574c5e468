/**
 * Keeps a directory of Sluice's own files private to the user Sluice runs as: directories 0700,
 * files 0600. The embedded database's files hold password hashes and session digests (its
 * write-ahead log too), so no other local user may read them.
 *
 * Two parts, because neither alone suffices: PGlite writes the files of a new database with mode
 * 0666 whatever the umask, so `makePrivate` sets the modes of everything there after the engine has
 * started; and `restrictUmask` keeps what is created later (PostgreSQL's new relation and WAL files,
 * the lock file) from ever being readable by others, for as long as the process lives.
 *
 * A file whose mode cannot be set (it belongs to another user: the directory was made, or a file
 * copied in, as root) stops the database from opening, with `DataDirNotPrivate` naming it and the
 * chown that fixes it: a directory Sluice cannot make private is a misconfiguration, not a reason
 * to serve password hashes others may read.
 *
 * @example
 * restrictUmask();
 * await makePrivate("/var/lib/sluice/db");
 */
import { chmod, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Bits the umask keeps out of every new file: all of the group's and others'. */
const PRIVATE_UMASK = 0o077;

/** A path under a directory of Sluice's own files refused its private mode. */
export class DataDirNotPrivate extends Error {
  readonly code = "SLUICE_ERR_DATA_DIR_NOT_PRIVATE";
  constructor(
    /** The directory `makePrivate` was given: what to chown. */
    readonly directory: string,
    /** The file or directory whose mode could not be set. */
    readonly path: string,
    /** Its owner's uid, when it could be read. */
    readonly owner: number | undefined,
    cause: NodeJS.ErrnoException,
  ) {
    const uid = process.getuid?.();
    const whose = [uid === undefined ? undefined : `uid ${uid}`, owner === undefined ? undefined : `the file's owner is uid ${owner}`].filter(Boolean).join("; ");
    super(`cannot make ${path} private to the user Sluice runs as${whose === "" ? "" : ` (${whose})`}: ${cause.code ?? cause.message}. Every file in ${directory} must belong to that user: chown -R ${uid ?? "<that user>"} ${directory}`, { cause });
    this.name = "DataDirNotPrivate";
  }
}

/**
 * Sets `directory` and everything under it to 0700 (directories) and 0600 (files); symbolic links
 * are left alone. DataDirNotPrivate when a mode cannot be set.
 */
export async function makePrivate(directory: string): Promise<void> {
  const set = async (path: string, mode: number) => {
    try {
      await chmod(path, mode);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      if (code !== "EPERM" && code !== "EACCES") throw error;
      throw new DataDirNotPrivate(directory, path, (await stat(path).catch(() => undefined))?.uid, error as NodeJS.ErrnoException);
    }
  };
  const visit = async (dir: string): Promise<void> => {
    await set(dir, PRIVATE_DIRECTORY_MODE);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile()) await set(path, PRIVATE_FILE_MODE);
    }
  };
  await visit(directory);
}

/**
 * Adds 077 to the process's umask, for good: Sluice writes no file another user should read. A
 * worker thread cannot change the umask (node refuses); there `makePrivate` alone holds.
 */
export function restrictUmask(): void {
  try {
    const previous = process.umask(PRIVATE_UMASK);
    process.umask(previous | PRIVATE_UMASK);
  } catch {
    // ERR_WORKER_UNSUPPORTED_OPERATION
  }
}
