/**
 * Calls back when the config file's content changes, however it was written. The directory is
 * watched, not the file: editors and deployment tools replace a file (write a temporary one,
 * rename it over the old), which ends a watch on the old file's inode, and Kubernetes swaps a
 * symlink beside it. Events come in bursts (truncate, write, rename), so they are debounced, and a
 * burst that leaves the content as it was (a `touch`, a save without changes) calls nothing.
 *
 * @example
 * const watcher = watchConfigFile("/etc/sluice/sluice.yaml", () => reload("file changed"));
 * await watcher.close();
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Logger } from "../observability/logger.js";

export interface ConfigWatcher {
  close(): void;
}

export interface ConfigWatcherOptions {
  /** Quiet time after the last event before the file is read; default 200 ms. */
  readonly debounceMs?: number;
  readonly logger?: Logger;
}

export async function watchConfigFile(path: string, onChange: () => void, options: ConfigWatcherOptions = {}): Promise<ConfigWatcher> {
  const debounceMs = options.debounceMs ?? 200;
  let last = await readFile(path, "utf8").catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const name = basename(path);

  const settle = async () => {
    // A file being replaced may be missing for a moment: that is no change yet; the rename that follows is.
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined || text === last) return;
    last = text;
    onChange();
  };
  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
    // Other files of the directory only matter as symlink swaps (Kubernetes' "..data"); the content check sorts them out.
    if (filename !== null && filename !== name && !filename.startsWith("..")) return;
    clearTimeout(timer);
    timer = setTimeout(() => void settle(), debounceMs);
  });
  watcher.on("error", (error) => options.logger?.warn({ err: error, path }, "stopped watching the config file; SIGHUP still reloads it"));
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
