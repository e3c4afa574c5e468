/**
 * Graceful shutdown for the long-running commands (`start`, `demo`): the first SIGINT/SIGTERM
 * closes, the second exits at once.
 */

/** Closes gracefully on SIGINT/SIGTERM; a second signal exits at once. */
export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    process.stderr.write(`\n${signal}: shutting down\n`);
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
