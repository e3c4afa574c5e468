/**
 * A file whose mode nobody can change, root included: `chattr +i` (Linux, ext4 and the like).
 * Sluice's tests run as root here, where every chmod succeeds; an immutable file gives the EPERM
 * that a file owned by another user gives Sluice's own user in production.
 */
import { spawnSync } from "node:child_process";
import { chmod } from "node:fs/promises";

/** Makes `path` immutable and returns the undo, or undefined when this machine cannot (not root, no chattr, another file system). */
export async function makeImmutable(path: string): Promise<(() => void) | undefined> {
  if (process.getuid?.() !== 0 || spawnSync("chattr", ["+i", path]).status !== 0) return undefined;
  const undo = () => void spawnSync("chattr", ["-i", path]);
  try {
    await chmod(path, 0o600);
  } catch {
    return undo; // EPERM: as wanted
  }
  undo();
  return undefined;
}
