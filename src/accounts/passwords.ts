/**
 * Passwords: scrypt hashes, stored as a self-describing string, checked in constant time, and
 * computed behind two gates so a burst cannot exhaust memory, and sign-ups cannot starve sign-ins.
 *
 * Format: `scrypt$<N>$<r>$<p>$<salt>$<hash>` (salt and hash in unpadded base64url). Verification
 * reads the parameters from the string, so hashes made with older parameters keep verifying;
 * `needsRehash` tells the login path to store a fresh hash once the password is known to be right.
 *
 * Cost: OWASP's scrypt setting N=2^13, r=8, p=10 — 8 MiB and some tens of milliseconds per hash.
 * Each gate runs at most `concurrency` hashes at once and queues up to `maxWaiting` more; beyond
 * that `PasswordHashingBusy` is thrown at once, for HTTP to answer 503. The gates are separate
 * budgets: `checks` (`verify`: sign-in, a password change's current password; default 2 at once,
 * 100 waiting) and `newPasswords` (`hash`: sign-up, a new password, an admin's new user, a rehash;
 * default 1 at once, 10 waiting). A flood of sign-ups fills its own queue and gets 503s, while
 * sign-ins keep their two hashes and their queue. A caller may take its place at the checks gate
 * first (`checkPlace`) and verify on it later: the sign-in does, so that a busy gate refuses it
 * before the login throttle counts an attempt.
 *
 * Unknown accounts must answer exactly like wrong passwords, in content and in time: pass
 * `undefined` as the stored hash and `verify` spends the same work on a dummy hash, then says no.
 *
 * Rules (NIST SP 800-63B): 8 to 256 characters, nothing else — no composition rules. Passwords
 * are NFKC-normalized first, so the same password typed on different keyboards matches.
 *
 * @example
 * const passwords = new PasswordHasher();
 * const stored = await passwords.hash("correct horse battery staple");
 * await passwords.verify("correct horse battery staple", stored); // → true
 * await passwords.verify("anything", undefined);                  // → false, after the same work
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { Semaphore, type Place } from "./semaphore.js";

/** Fewest characters (Unicode code points) a password may have. */
export const PASSWORD_MIN_LENGTH = 8;
/** Most characters a password may have: long enough for any passphrase, short enough to bound the work. */
export const PASSWORD_MAX_LENGTH = 256;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelization. */
  readonly p: number;
}

/** The parameters new hashes are made with (OWASP: N=2^13, r=8, p=10, 8 MiB per hash). */
export const SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 13, r: 8, p: 10 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Hashes asking for more memory than this (128·N·r bytes) are refused as malformed. */
const MAX_SCRYPT_MEMORY = 128 * 1024 * 1024;

/** Derives `keyLength` bytes from a password; injectable so tests can watch the hashing run. */
export type DeriveKey = (password: string, salt: Buffer, keyLength: number, params: ScryptParams) => Promise<Buffer>;

export const scryptDerive: DeriveKey = (password, salt, keyLength, { N, r, p }) =>
  new Promise((resolve, reject) => {
    // Twice the nominal need: node counts a little more than 128·N·r.
    const options: ScryptOptions = { N, r, p, maxmem: 2 * 128 * N * r };
    scrypt(password, salt, keyLength, options, (error, key) => (error === null ? resolve(key) : reject(error)));
  });

/** Too many hashes are running and waiting; try later (HTTP 503). */
export class PasswordHashingBusy extends Error {
  readonly code = "SLUICE_ERR_PASSWORD_HASHING_BUSY";
  constructor() {
    super("too many password hashes are in progress; try again shortly");
    this.name = "PasswordHashingBusy";
  }
}

/** A password breaks the rules; the message says which (for a 400 naming the field). */
export class PasswordRejected extends Error {
  readonly code = "SLUICE_ERR_PASSWORD_REJECTED";
  constructor(message: string) {
    super(message);
    this.name = "PasswordRejected";
  }
}

/** A stored hash is not in the format this module writes: the stored data is damaged. */
export class MalformedPasswordHash extends Error {
  readonly code = "SLUICE_ERR_MALFORMED_PASSWORD_HASH";
  constructor(reason: string) {
    super(`not a valid password hash: ${reason}`);
    this.name = "MalformedPasswordHash";
  }
}

/** What is wrong with a password under the rules, or `undefined` when it may be used. */
export function passwordProblem(password: string): string | undefined {
  const length = characterCount(normalize(password));
  if (length < PASSWORD_MIN_LENGTH) return `use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  return undefined;
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const HASH_FORMAT = /^scrypt\$([1-9]\d{0,9})\$([1-9]\d{0,3})\$([1-9]\d{0,3})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function parseHash(stored: string): ParsedHash {
  const match = HASH_FORMAT.exec(stored);
  if (match === null) throw new MalformedPasswordHash("expected scrypt$<N>$<r>$<p>$<salt>$<hash>");
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (N < 2 || (N & (N - 1)) !== 0) throw new MalformedPasswordHash(`N must be a power of two, got ${N}`);
  if (128 * N * r > MAX_SCRYPT_MEMORY) throw new MalformedPasswordHash(`N=${N}, r=${r} needs more than ${MAX_SCRYPT_MEMORY} bytes`);
  const salt = Buffer.from(match[4]!, "base64url");
  const key = Buffer.from(match[5]!, "base64url");
  if (salt.length < SALT_BYTES || key.length < 16) throw new MalformedPasswordHash("salt or hash too short");
  return { params: { N, r, p }, salt, key };
}

function formatHash({ N, r, p }: ScryptParams, salt: Buffer, key: Buffer): string {
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/**
 * A well-formed hash that matches no password, with `params`: verifying against it costs what
 * verifying a real one does. Made of random bytes, so it costs nothing to make.
 */
export function dummyHash(params: ScryptParams = SCRYPT_PARAMS): string {
  return formatHash(params, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));
}

/** A dummy hash with the current parameters, for callers that verify without a `PasswordHasher`. */
export const DUMMY_HASH = dummyHash();

/** True when `stored` was made with other parameters than `params` (or is not one of ours): hash the password again. */
export function needsRehash(stored: string, params: ScryptParams = SCRYPT_PARAMS): boolean {
  let parsed: ParsedHash;
  try {
    parsed = parseHash(stored);
  } catch {
    return true;
  }
  const { N, r, p } = parsed.params;
  return N !== params.N || r !== params.r || p !== params.p || parsed.salt.length !== SALT_BYTES || parsed.key.length !== KEY_BYTES;
}

/** How much hashing one gate allows: at once, and queued behind those. */
export interface HashingBudget {
  readonly concurrency: number;
  /** More callers than this waiting: PasswordHashingBusy. */
  readonly maxWaiting: number;
}

/** Checking presented passwords (sign-in): two at once, a hundred waiting. */
export const CHECKS_BUDGET: HashingBudget = Object.freeze({ concurrency: 2, maxWaiting: 100 });
/** Hashing new passwords (sign-up): one at once, ten waiting; sign-ups are rare and may wait a second. */
export const NEW_PASSWORDS_BUDGET: HashingBudget = Object.freeze({ concurrency: 1, maxWaiting: 10 });

/** What a gate is doing right now. */
export interface GateLoad {
  /** Hashes being computed. */
  readonly inFlight: number;
  /** Callers waiting for their turn. */
  readonly waiting: number;
}

export interface PasswordHasherOptions {
  /** Parameters of new hashes; default SCRYPT_PARAMS. */
  readonly params?: ScryptParams;
  /** The gate of `verify`; default CHECKS_BUDGET. */
  readonly checks?: HashingBudget;
  /** The gate of `hash`; default NEW_PASSWORDS_BUDGET. */
  readonly newPasswords?: HashingBudget;
  /** The key derivation; default scrypt. */
  readonly derive?: DeriveKey;
}

export class PasswordHasher {
  readonly params: ScryptParams;
  readonly #checks: Semaphore;
  readonly #newPasswords: Semaphore;
  readonly #derive: DeriveKey;
  readonly #dummy: string;

  constructor(options: PasswordHasherOptions = {}) {
    this.params = options.params ?? SCRYPT_PARAMS;
    const gate = ({ concurrency, maxWaiting }: HashingBudget) => new Semaphore(concurrency, maxWaiting);
    this.#checks = gate(options.checks ?? CHECKS_BUDGET);
    this.#newPasswords = gate(options.newPasswords ?? NEW_PASSWORDS_BUDGET);
    this.#derive = options.derive ?? scryptDerive;
    this.#dummy = dummyHash(this.params);
  }

  /** The gate of `verify` right now. */
  get checking(): GateLoad {
    return load(this.#checks);
  }

  /** The gate of `hash` right now. */
  get hashing(): GateLoad {
    return load(this.#newPasswords);
  }

  /** A new hash of `password` with a fresh salt; PasswordRejected when it breaks the rules. */
  async hash(password: string): Promise<string> {
    const problem = passwordProblem(password);
    if (problem !== undefined) throw new PasswordRejected(problem);
    const salt = randomBytes(SALT_BYTES);
    const place = this.#newPasswords.enter();
    try {
      const key = await run(place, () => this.#derive(normalize(password), salt, KEY_BYTES, this.params));
      return formatHash(this.params, salt, key);
    } finally {
      place?.leave();
    }
  }

  /**
   * A place at the checks gate, for a `verify` to come, or `undefined` at once when the gate's
   * queue is full. Whoever takes one passes it to `verify`, or leaves it (`place.leave()`).
   */
  checkPlace(): Place | undefined {
    return this.#checks.enter();
  }

  /**
   * Whether `password` matches `stored`. Pass `undefined` for an account that does not exist:
   * the same work is done against a dummy hash and the answer is false. Runs on `place` (from
   * `checkPlace`), which it leaves, or takes one itself: PasswordHashingBusy when there is none.
   */
  async verify(password: string, stored: string | undefined, place: Place | undefined = this.#checks.enter()): Promise<boolean> {
    try {
      const { params, salt, key } = parseHash(stored ?? this.#dummy);
      const candidate = normalize(password);
      // No stored hash holds a longer password; this answer depends on the input alone.
      if (characterCount(candidate) > PASSWORD_MAX_LENGTH) return false;
      const derived = await run(place, () => this.#derive(candidate, salt, key.length, params));
      return timingSafeEqual(derived, key) && stored !== undefined;
    } finally {
      place?.leave();
    }
  }

  /** True when `stored` was made with other parameters than this hasher's. */
  needsRehash(stored: string): boolean {
    return needsRehash(stored, this.params);
  }
}

/** `work` once `place` holds its permit; PasswordHashingBusy at once when there is no place (the queue was full). The caller leaves the place. */
async function run<T>(place: Place | undefined, work: () => Promise<T>): Promise<T> {
  if (place === undefined) throw new PasswordHashingBusy();
  await place.turn;
  return work();
}

function load(gate: Semaphore): GateLoad {
  return { inFlight: gate.active, waiting: gate.waiting };
}

function normalize(password: string): string {
  return password.normalize("NFKC");
}

function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
