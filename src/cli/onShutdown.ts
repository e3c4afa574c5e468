/**
 * Graceful shutdown for the long-running commands (`start`, `demo`): the first SIGINT/SIGTERM
 * closes (for `start`: drain, finish requests in flight up to the deadline, close pools), and the
 * process exits 0 once that is done, 1 if closing failed; a second signal exits at once with 1.
 * The returned function starts the same shutdown without a signal: a cluster worker is told to
 * stop by its primary over IPC, and must not take that for a second, impatient Ctrl-C.
 */

/** Closes gracefully on SIGINT/SIGTERM; a second signal exits at once. Returns a trigger for the same shutdown. */
export function onShutdown(close: () => Promise<void>): (reason: string) => void {
  let closing = false;
  const shutdown = (reason: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`\n${reason}: shutting down\n`);
    close().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`sluice: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
  };
  const handler = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    shutdown(signal);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return shutdown;
}
