/**
 * A real Sluice with accounts, for tests of what needs users, keys and plans: a migrated
 * database (the embedded engine unless told otherwise), the accounts on it with cheap password
 * hashing (tests about keys and limits, not hashing; test/accounts/passwords.test.ts covers the
 * real parameters), and the gateway in front of a recording upstream. `close` shuts them down in
 * the order they depend on each other: gateway, accounts, database, upstream.
 */
import { openAccounts, type Accounts } from "../../src/accounts/accounts.js";
import { PasswordHasher } from "../../src/accounts/passwords.js";
import type { Database } from "../../src/db/database.js";
import { openDatabase, type DatabaseLocation } from "../../src/db/openDatabase.js";
import { TEST_ENGINES } from "./databases.js";
import { ManualClock } from "./manualClock.js";
import { startRecordingUpstream, type RecordingUpstream } from "./recordingUpstream.js";
import { startTestSluice, type TestSluice } from "./testSluice.js";

export const CHEAP_PASSWORDS = new PasswordHasher({ params: { N: 2 ** 4, r: 1, p: 1 } });

export interface AccountsSluice {
  readonly sluice: TestSluice;
  readonly accounts: Accounts;
  readonly db: Database;
  readonly upstream: RecordingUpstream;
  readonly clock: ManualClock;
  close(): Promise<void>;
}

export interface AccountsSluiceOptions {
  /** Where the database lives; a fresh embedded one by default. */
  readonly location?: DatabaseLocation;
  readonly clock?: ManualClock;
  readonly adminToken?: string;
}

/** `yaml(upstreamUrl)` is the gateway's config, given the recording upstream's URL. */
export async function startAccountsSluice(yaml: (upstreamUrl: string) => string, options: AccountsSluiceOptions = {}): Promise<AccountsSluice> {
  const clock = options.clock ?? new ManualClock();
  const upstream = await startRecordingUpstream();
  const db = await openDatabase(options.location ?? (await TEST_ENGINES[0]!.fresh()));
  const accounts = await openAccounts(db, { now: clock.read, passwords: CHEAP_PASSWORDS });
  const sluice = await startTestSluice(yaml(upstream.url), { accounts, clock, ...(options.adminToken !== undefined && { adminToken: options.adminToken }) });
  return {
    sluice,
    accounts,
    db,
    upstream,
    clock,
    close: async () => {
      await sluice.close();
      await accounts.close();
      await db.close();
      await upstream.close();
    },
  };
}
