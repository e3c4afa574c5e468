/**
 * Everything Sluice knows about people and their keys, opened on one database: users and their
 * passwords, sessions, API keys and the cached verifier the gateway asks, and plans. The HTTP
 * routes, the admin API and the CLI all go through this one object, so there is one password
 * hasher per process (its cap on concurrent hashing holds) and one key cache.
 *
 * @example
 * const accounts = await openAccounts(await openDatabase({ dataDir: "./data" }));
 * const user = await accounts.signUp({ email: "ada@example.com", password: "correct horse" });
 */
import type { Database } from "../db/database.js";
import { apiKeyRepository, type ApiKeyRepository } from "./apiKeys.js";
import { databaseApiKeys, type DatabaseApiKeys } from "./databaseApiKeys.js";
import { PasswordHasher, PasswordHashingBusy } from "./passwords.js";
import { PlanRepository } from "./plans.js";
import type { Place } from "./semaphore.js";
import { SessionStore } from "./sessions.js";
import { EmailTaken, UserRepository, type Role, type User } from "./users.js";

/** The plan of a user who signs up; created by migration 2. */
export const DEFAULT_PLAN = "free";

export interface AccountsOptions {
  /** Milliseconds since the epoch, for sessions, key expiry and caches; default Date.now. */
  readonly now?: () => number;
  readonly passwords?: PasswordHasher;
  /** Told of a failed background write (API key last use). */
  readonly onError?: (error: unknown) => void;
}

export interface Accounts {
  readonly db: Database;
  /** The clock sessions and key expiries are judged by (AccountsOptions.now). */
  readonly now: () => number;
  readonly users: UserRepository;
  readonly passwords: PasswordHasher;
  readonly sessions: SessionStore;
  readonly apiKeys: ApiKeyRepository;
  /** The gateway's verifier of database keys (cached; invalidated across instances). */
  readonly keyVerifier: DatabaseApiKeys;
  readonly plans: PlanRepository;
  /** A new account; PasswordRejected, InvalidEmail or EmailTaken (before any hashing) when it cannot be made. */
  createUser(spec: { readonly email: string; readonly password: string; readonly role?: Role; readonly plan?: string }): Promise<User>;
  /**
   * The user whose email and password these are, or undefined: an unknown email, a wrong
   * password and a disabled account answer alike, after the same work. The check runs on `place`
   * when given (`passwords.checkPlace()`), as PasswordHasher.verify does.
   */
  checkPassword(email: string, password: string, place?: Place): Promise<User | undefined>;
  /**
   * As checkPassword, but a disabled account whose password this is answers "disabled": only
   * whoever knows the password learns that the account exists and is disabled. The same work
   * (one password check) whatever the outcome.
   */
  checkSignIn(email: string, password: string, place?: Place): Promise<User | "disabled" | undefined>;
  /** The user a session token signs in, or undefined: an unknown or expired session, a disabled user. */
  sessionUser(token: string): Promise<User | undefined>;
  /** Stops the key verifier (writing its last uses); the database stays open. */
  close(): Promise<void>;
}

export async function openAccounts(db: Database, options: AccountsOptions = {}): Promise<Accounts> {
  const now = options.now ?? Date.now;
  const users = new UserRepository(db);
  const passwords = options.passwords ?? new PasswordHasher();
  const apiKeys = apiKeyRepository(db, { now });
  const sessions = new SessionStore(db, { now });
  const keyVerifier = await databaseApiKeys(apiKeys, db, { now, ...(options.onError && { onError: options.onError }) });
  /** Stores a hash with the current parameters; left for the next sign-in while new passwords' gate is full. */
  const rehash = async (userId: string, password: string) => {
    try {
      await users.setPasswordHash(userId, await passwords.hash(password));
    } catch (error) {
      if (!(error instanceof PasswordHashingBusy)) throw error;
    }
  };
  const checkSignIn = async (email: string, password: string, place?: Place): Promise<User | "disabled" | undefined> => {
    const found = await users.findCredentials(email);
    const matches = await passwords.verify(password, found?.passwordHash, place);
    if (!matches || found === undefined) return undefined;
    if (found.user.disabledAt !== null) return "disabled";
    if (passwords.needsRehash(found.passwordHash)) await rehash(found.user.id, password);
    return found.user;
  };
  return {
    db,
    now,
    users,
    passwords,
    sessions,
    apiKeys,
    keyVerifier,
    plans: new PlanRepository(db),
    createUser: async ({ email, password, role = "user", plan = DEFAULT_PLAN }) => {
      // No hash for an address that has an account: the answer says so (409) whatever the work, so
      // the work would only be spent for whoever sends it. (A concurrent sign-up still meets the
      // unique index.)
      if ((await users.findByEmail(email)) !== undefined) throw new EmailTaken(email.trim());
      return users.create({ email, passwordHash: await passwords.hash(password), role, plan });
    },
    checkPassword: async (email, password, place) => {
      const outcome = await checkSignIn(email, password, place);
      return outcome === "disabled" ? undefined : outcome;
    },
    checkSignIn,
    sessionUser: async (token) => {
      const session = await sessions.verify(token);
      const user = session && await users.findById(session.userId);
      return user !== undefined && user.disabledAt === null ? user : undefined;
    },
    close: () => keyVerifier.close(),
  };
}

/**
 * Creates the first admin when there is none yet (SLUICE_ADMIN_EMAIL and SLUICE_ADMIN_PASSWORD
 * at start-up, or `sluice users create --role admin`); does nothing once an admin exists.
 */
export async function ensureFirstAdmin(accounts: Accounts, email: string, password: string): Promise<User | undefined> {
  if ((await accounts.users.countAdmins({ includeDisabled: true })) > 0) return undefined;
  return accounts.createUser({ email, password, role: "admin" });
}
