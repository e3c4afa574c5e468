/**
 * "Last used" of a key list: the gateway records key uses in memory and writes them in batches
 * (accounts/databaseApiKeys.ts), so a list first writes this instance's pending ones and then
 * includes the call just made. A write that fails is logged, and the list goes on with what is
 * stored.
 */
import type { FastifyBaseLogger } from "fastify";
import type { Accounts } from "../accounts/accounts.js";

export async function writePendingKeyUses(accounts: Pick<Accounts, "keyVerifier">, log: FastifyBaseLogger): Promise<void> {
  await accounts.keyVerifier.flush().catch((error: unknown) => log.warn({ err: error }, "could not write API key uses before a list"));
}
