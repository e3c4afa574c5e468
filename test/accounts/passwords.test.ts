// Passwords are kept as scrypt hashes that describe themselves: the right password verifies, any
// other does not, and a hash altered in any part stops verifying. Hashes made with older
// parameters keep verifying and are flagged for rehashing. An unknown account costs the same
// work as a wrong password. However many logins arrive at once, at most two checks run together,
// a bounded number wait, and the rest are turned away with PasswordHashingBusy; new passwords
// (sign-ups) have a gate of their own, one at a time, so a flood of them delays no sign-in.
import assert from "node:assert/strict";
import { scryptSync } from "node:crypto";
import { describe, it } from "node:test";
import {
  DUMMY_HASH,
  MalformedPasswordHash,
  needsRehash,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PasswordHasher,
  PasswordHashingBusy,
  passwordProblem,
  PasswordRejected,
  SCRYPT_PARAMS,
  scryptDerive,
  type DeriveKey,
  type ScryptParams,
} from "../../src/accounts/passwords.js";

/** Cheap parameters for tests about the gate, where the cost of scrypt does not matter. */
const CHEAP: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = "correct horse battery staple";

describe("password hashes", () => {
  const passwords = new PasswordHasher();

  it("are scrypt$N$r$p$salt$hash with OWASP's parameters, a 16-byte salt and a 32-byte key", async () => {
    const stored = await passwords.hash(PASSWORD);
    assert.deepEqual(SCRYPT_PARAMS, { N: 8192, r: 8, p: 10 });
    const match = /^scrypt\$8192\$8\$10\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
    assert.ok(match, stored);
    const salt = Buffer.from(match[1]!, "base64url");
    const key = Buffer.from(match[2]!, "base64url");
    assert.equal(salt.length, 16);
    assert.equal(key.length, 32);
    // The hash is plain scrypt of the password with those parameters, computed independently here.
    assert.deepEqual(scryptSync(PASSWORD, salt, 32, { N: 8192, r: 8, p: 10 }), key);
  });

  it("get a fresh salt every time", async () => {
    assert.notEqual(await passwords.hash(PASSWORD), await passwords.hash(PASSWORD));
  });

  it("verify the right password and no other", async () => {
    const stored = await passwords.hash(PASSWORD);
    assert.equal(await passwords.verify(PASSWORD, stored), true);
    assert.equal(await passwords.verify("correct horse battery stapl", stored), false);
    assert.equal(await passwords.verify("Correct horse battery staple", stored), false);
    assert.equal(await passwords.verify("", stored), false);
  });

  it("stop verifying when the salt, the hash or a parameter is altered", async () => {
    const stored = await passwords.hash(PASSWORD);
    const parts = stored.split("$");
    const flip = (text: string) => (text[0] === "A" ? "B" : "A") + text.slice(1);
    const tampered = [
      [...parts.slice(0, 4), flip(parts[4]!), parts[5]],
      [...parts.slice(0, 5), flip(parts[5]!)],
      [parts[0], parts[1], parts[2], "9", parts[4], parts[5]],
      [parts[0], "4096", ...parts.slice(2)],
    ].map((p) => p.join("$"));
    for (const hash of tampered) assert.equal(await passwords.verify(PASSWORD, hash), false, hash);
  });

  it("refuse a stored value that is not a hash of this format", async () => {
    for (const stored of ["", "plaintext-password", "scrypt$8192$8$10$abc", "scrypt$1000$8$10$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "bcrypt$2b$10$x$y"]) {
      await assert.rejects(passwords.verify(PASSWORD, stored), (error: unknown) => error instanceof MalformedPasswordHash && error.code === "SLUICE_ERR_MALFORMED_PASSWORD_HASH", stored);
    }
  });

  it("keep verifying after the parameters change, and ask to be rehashed", async () => {
    const old = await new PasswordHasher({ params: CHEAP }).hash(PASSWORD);
    assert.match(old, /^scrypt\$1024\$8\$1\$/);
    assert.equal(await passwords.verify(PASSWORD, old), true);
    assert.equal(passwords.needsRehash(old), true);
    assert.equal(needsRehash(old), true);
    const current = await passwords.hash(PASSWORD);
    assert.equal(passwords.needsRehash(current), false);
    assert.equal(needsRehash(current, CHEAP), true);
    assert.equal(needsRehash("not a hash"), true);
  });

  it("match the same password typed in another Unicode form (NFKC)", async () => {
    const stored = await passwords.hash("ｐａｓｓｗｏｒｄ１２"); // full-width letters and digits
    assert.equal(await passwords.verify("password12", stored), true);
    const composed = await passwords.hash("caf\u00e9 au lait");
    assert.equal(await passwords.verify("cafe\u0301 au lait", composed), true);
  });
});

describe("an unknown account", () => {
  it("costs the same scrypt work as a wrong password, and never verifies", async () => {
    const calls: ScryptParams[] = [];
    const derive: DeriveKey = (password, salt, keyLength, params) => {
      calls.push(params);
      return scryptDerive(password, salt, keyLength, params);
    };
    const passwords = new PasswordHasher({ derive });
    const stored = await passwords.hash(PASSWORD);
    calls.length = 0;
    assert.equal(await passwords.verify("wrong password", stored), false);
    assert.equal(await passwords.verify(PASSWORD, undefined), false);
    assert.deepEqual(calls, [SCRYPT_PARAMS, SCRYPT_PARAMS]);
  });

  it("has a dummy hash in the current format that no password matches", async () => {
    assert.match(DUMMY_HASH, /^scrypt\$8192\$8\$10\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(needsRehash(DUMMY_HASH), false);
    assert.equal(await new PasswordHasher().verify(PASSWORD, DUMMY_HASH), false);
  });
});

describe("password rules", () => {
  it(`take ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters and nothing else`, () => {
    assert.equal(PASSWORD_MIN_LENGTH, 8);
    assert.equal(PASSWORD_MAX_LENGTH, 256);
    assert.equal(passwordProblem("1234567"), "use at least 8 characters");
    assert.equal(passwordProblem("12345678"), undefined);
    assert.equal(passwordProblem("aaaaaaaa"), undefined); // no composition rules
    assert.equal(passwordProblem("x".repeat(256)), undefined);
    assert.equal(passwordProblem("x".repeat(257)), "use at most 256 characters");
  });

  it("count characters, not UTF-16 code units", () => {
    assert.equal(passwordProblem("🔑🔑🔑🔑"), "use at least 8 characters"); // 8 code units, 4 characters
    assert.equal(passwordProblem("🔑".repeat(8)), undefined);
    assert.equal(passwordProblem("🔑".repeat(256)), undefined);
  });

  it("are enforced when hashing", async () => {
    const passwords = new PasswordHasher({ params: CHEAP });
    await assert.rejects(passwords.hash("short"), (error: unknown) => error instanceof PasswordRejected && error.code === "SLUICE_ERR_PASSWORD_REJECTED");
    assert.equal(await passwords.verify("x".repeat(257), await passwords.hash("x".repeat(256))), false);
  });
});

/** A key derivation that holds every call until the test lets it go, counting calls in progress. */
function heldDerive() {
  const held: (() => void)[] = [];
  const state = { inFlight: 0, maxInFlight: 0, started: [] as string[] };
  const derive: DeriveKey = async (password, salt, keyLength, params) => {
    state.started.push(password);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      await new Promise<void>((resolve) => held.push(resolve));
      return await scryptDerive(password, salt, keyLength, params);
    } finally {
      state.inFlight--;
    }
  };
  return { derive, held, state };
}

/** Yields to the event loop until `condition` holds (no clock involved). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe("the hashing gates", () => {
  it("check at most two passwords at once, by default, and queue the rest in order", async () => {
    const { derive, held, state } = heldDerive();
    const passwords = new PasswordHasher({ params: CHEAP, derive });
    const stored = await new PasswordHasher({ params: CHEAP }).hash(PASSWORD);
    const settled: number[] = [];
    const checks = Array.from({ length: 10 }, (_, i) => passwords.verify(i === 9 ? PASSWORD : `guess-${i}`, stored).then((ok) => (settled.push(i), ok)));
    await until(() => held.length === 2);
    assert.equal(state.inFlight, 2);
    assert.deepEqual(passwords.checking, { inFlight: 2, waiting: 8 });
    while (settled.length < 10) {
      await until(() => held.length > 0 || settled.length === 10);
      held.shift()?.();
      assert.ok(state.inFlight <= 2 && passwords.checking.inFlight <= 2, `in flight: ${state.inFlight}`);
    }
    assert.deepEqual(await Promise.all(checks), [...Array<boolean>(9).fill(false), true]);
    assert.deepEqual(state.started, [...Array.from({ length: 9 }, (_, i) => `guess-${i}`), PASSWORD]); // first come, first served
    assert.equal(state.maxInFlight, 2);
    assert.deepEqual(passwords.checking, { inFlight: 0, waiting: 0 });
  });

  it("hash at most one new password at once, by default, and queue the rest in order", async () => {
    const { derive, held, state } = heldDerive();
    const passwords = new PasswordHasher({ params: CHEAP, derive });
    const hashes = Array.from({ length: 5 }, (_, i) => passwords.hash(`password-${i}`));
    await until(() => held.length === 1);
    assert.deepEqual(passwords.hashing, { inFlight: 1, waiting: 4 });
    while (held.length > 0 || passwords.hashing.inFlight > 0) {
      held.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(hashes);
    assert.equal(state.maxInFlight, 1);
    assert.deepEqual(state.started, Array.from({ length: 5 }, (_, i) => `password-${i}`));
    for (const [i, hash] of results.entries()) assert.equal(await new PasswordHasher({ params: CHEAP }).verify(`password-${i}`, hash), true);
  });

  it("keep sign-ins going while sign-ups fill their own gate: a full queue of new passwords delays no check", async () => {
    // Only new passwords are held: checks run through.
    const held: (() => void)[] = [];
    const derive: DeriveKey = async (password, ...rest) => {
      if (password.startsWith("new-")) await new Promise<void>((resolve) => held.push(resolve));
      return scryptDerive(password, ...rest);
    };
    const passwords = new PasswordHasher({ params: CHEAP, derive, newPasswords: { concurrency: 1, maxWaiting: 3 } });
    const stored = await new PasswordHasher({ params: CHEAP }).hash(PASSWORD);
    const signUps = Array.from({ length: 4 }, (_, i) => passwords.hash(`new-password-${i}`));
    await until(() => held.length === 1);
    assert.deepEqual(passwords.hashing, { inFlight: 1, waiting: 3 });
    await assert.rejects(passwords.hash("new-one-too-many"), PasswordHashingBusy);

    assert.deepEqual(await Promise.all([passwords.verify(PASSWORD, stored), passwords.verify("wrong password", stored)]), [true, false]);
    assert.deepEqual(passwords.hashing, { inFlight: 1, waiting: 3 }, "the sign-ups still wait");

    while (held.length > 0 || passwords.hashing.inFlight > 0) {
      held.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await Promise.all(signUps)).length, 4);
  });

  it("hold real scrypt to two checks at once under a burst of logins", async () => {
    const state = { inFlight: 0, maxInFlight: 0 };
    const derive: DeriveKey = async (...args) => {
      state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
      try {
        return await scryptDerive(...args);
      } finally {
        state.inFlight--;
      }
    };
    const passwords = new PasswordHasher({ derive });
    const stored = await passwords.hash(PASSWORD);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => passwords.verify(i % 2 === 0 ? PASSWORD : "wrong password", stored)));
    assert.deepEqual(answers, [true, false, true, false, true, false]);
    assert.equal(state.maxInFlight, 2);
  });

  it("turn callers away with PasswordHashingBusy once the queue is full, and take them again when it drains", async () => {
    const { derive, held } = heldDerive();
    const passwords = new PasswordHasher({ params: CHEAP, derive, newPasswords: { concurrency: 2, maxWaiting: 3 } });
    const accepted = Array.from({ length: 5 }, (_, i) => passwords.hash(`password-${i}`));
    await until(() => held.length === 2);
    assert.equal(passwords.hashing.waiting, 3);
    await assert.rejects(passwords.hash("one-too-many"), (error: unknown) => error instanceof PasswordHashingBusy && error.code === "SLUICE_ERR_PASSWORD_HASHING_BUSY");
    held.shift()!();
    await until(() => held.length === 2); // the first waiter took the freed permit
    assert.equal(passwords.hashing.waiting, 2);
    const another = passwords.hash("room-again"); // a place in the queue is free again
    while (held.length > 0 || passwords.hashing.inFlight > 0) {
      held.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await Promise.all([...accepted, another])).length, 6);
  });

  it("give the permit back when hashing fails", async () => {
    let fail = true;
    const derive: DeriveKey = (...args) => (fail ? Promise.reject(new Error("scrypt broke")) : scryptDerive(...args));
    const passwords = new PasswordHasher({ params: CHEAP, derive, newPasswords: { concurrency: 1, maxWaiting: 0 } });
    await assert.rejects(passwords.hash(PASSWORD), /scrypt broke/);
    assert.equal(passwords.hashing.inFlight, 0);
    fail = false;
    assert.match(await passwords.hash(PASSWORD), /^scrypt\$/);
  });
});
