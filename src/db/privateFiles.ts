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
 * @example
 * restrictUmask();
 * await makePrivate("/var/lib/sluice/db");
 */
import { chmod, readdir } from "node:fs/promises";
import { join } from "node:path";

export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Bits the umask keeps out of every new file: all of the group's and others'. */
const PRIVATE_UMASK = 0o077;

/** Sets `directory` and everything under it to 0700 (directories) and 0600 (files); symbolic links are left alone. */
export async function makePrivate(directory: string): Promise<void> {
  await chmod(directory, PRIVATE_DIRECTORY_MODE);
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) await makePrivate(path);
    else if (entry.isFile()) await chmod(path, PRIVATE_FILE_MODE);
  }
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
