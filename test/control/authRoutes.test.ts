// People sign up, sign in and out, and change their password over HTTP, as the dashboard will
// make them. A sign-up gets an account on the free plan and an HttpOnly, SameSite=Lax session
// cookie; every sign-in replaces the session the browser carried; an unknown email, a wrong
// password and a disabled account's wrong password get the very same 401, and count alike towards
// the throttle (a disabled account is told so only after its right password),
// which refuses a 6th failure (even with the right password) and an address's 101st of the day.
// A password change ends every other session, and no other site can make a signed-in browser act.
// Runs on both database engines; one test proves sign-up stores a real scrypt hash.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openAccounts, type Accounts } from "../../src/accounts/accounts.js";
import { PasswordHasher, scryptDerive, type DeriveKey, type HashingBudget } from "../../src/accounts/passwords.js";
import { SESSION_TTL_MS } from "../../src/accounts/sessions.js";
import { AUTH_OPENAPI_PATHS, SESSION_SECURITY_SCHEMES } from "../../src/control/authRoutes.js";
import type { Database } from "../../src/db/database.js";
import { openDatabase } from "../../src/db/openDatabase.js";
import { problems } from "../../src/problems/catalogue.js";
import { TEST_ENGINES } from "../support/databases.js";
import { ManualClock } from "../support/manualClock.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { TestBrowser, type BrowserResponse } from "../support/testBrowser.js";
import { startTestSluice, type TestSluice } from "../support/testSluice.js";

// Cheap parameters: these tests are about HTTP, sessions and throttling, not hashing.
const cheapPasswords = () => new PasswordHasher({ params: { N: 2 ** 4, r: 1, p: 1 } });
const PASSWORD = "correct horse battery";
const MINUTE = 60_000;

let upstream: RecordingUpstream;
before(async () => {
  upstream = await startRecordingUpstream();
});
after(async () => {
  await upstream.close();
});

const yaml = (server: string) => `
server: { ${server} }
services:
  echo: { upstream: "${upstream.url}", openapi: false }
`;

/** A database on `engine` with accounts and a gateway over them; closed in order after the suite. */
function withSluice(engine: (typeof TEST_ENGINES)[number], options: { passwords?: () => PasswordHasher; server?: string } = {}) {
  const env = {} as { db: Database; accounts: Accounts; sluice: TestSluice; clock: ManualClock };
  before(async () => {
    env.clock = new ManualClock();
    env.db = await openDatabase(await engine.fresh());
    env.accounts = await openAccounts(env.db, { now: env.clock.read, passwords: (options.passwords ?? cheapPasswords)() });
    env.sluice = await startTestSluice(yaml(options.server ?? ""), { accounts: env.accounts, clock: env.clock });
  });
  after(async () => {
    await env.sluice.close();
    await env.accounts.close();
    await env.db.close();
  });
  return env;
}

function assertProblem(response: BrowserResponse, kind: (typeof problems)[keyof typeof problems]): void {
  assert.equal(response.status, kind.status, response.text);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  assert.equal((response.json as { code: string }).code, kind.code);
}

function invalidParams(response: BrowserResponse): string[] {
  assertProblem(response, problems.badRequest);
  return (response.json as { invalidParams: { name: string }[] }).invalidParams.map((p) => p.name);
}

for (const engine of TEST_ENGINES) {
  describe(`on the ${engine.name} engine`, () => {
    const env = withSluice(engine);
    const browser = () => new TestBrowser(env.sluice.url);
    let n = 0;
    /** A new person, signed up in their own browser. */
    const signedUp = async () => {
      const email = `person-${++n}@example.com`;
      const b = browser();
      const response = await b.post("/auth/signup", { email, password: PASSWORD });
      assert.equal(response.status, 201, response.text);
      return { browser: b, email, user: (response.json as { user: { id: string } }).user };
    };

    describe("sign-up", () => {
      it("makes a user on the free plan and signs them in with an HttpOnly, SameSite=Lax cookie that /auth/me accepts", async () => {
        const b = browser();
        const response = await b.post("/auth/signup", { email: " Ada@Example.com ", password: PASSWORD });
        assert.equal(response.status, 201, response.text);
        const { user } = response.json as { user: Record<string, unknown> };
        assert.deepEqual(Object.keys(user).sort(), ["createdAt", "email", "id", "plan", "role"], "no password hash, nothing else");
        assert.equal(user["email"], "Ada@Example.com");
        assert.equal(user["role"], "user");
        assert.equal(user["plan"], "free");
        assert.equal(response.headers.get("cache-control"), "no-store");

        const [cookie, ...others] = response.headers.getSetCookie();
        assert.equal(others.length, 0);
        const token = /^sluice_session=([A-Za-z0-9_-]{43});/.exec(cookie ?? "")?.[1];
        assert.ok(token !== undefined, cookie);
        const expires = new Date(env.clock.now + SESSION_TTL_MS).toUTCString();
        assert.equal(cookie, `sluice_session=${token}; Path=/; Expires=${expires}; HttpOnly; SameSite=Lax`);

        const me = await b.get("/auth/me");
        assert.equal(me.status, 200);
        assert.deepEqual(me.json, { user });
      });

      it("refuses an email address that has an account, in any case, with 409", async () => {
        const { email } = await signedUp();
        assertProblem(await browser().post("/auth/signup", { email: email.toUpperCase(), password: PASSWORD }), problems.conflict);
      });

      it("names the bad field: an email that is not one, a short password, an unknown field, a missing one", async () => {
        assert.deepEqual(invalidParams(await browser().post("/auth/signup", { email: "not-an-email", password: PASSWORD })), ["email"]);
        const short = await browser().post("/auth/signup", { email: "short@example.com", password: "seven77" });
        assert.deepEqual(invalidParams(short), ["password"]);
        assert.match((short.json as { detail: string }).detail, /password: use at least 8 characters/);
        assert.deepEqual(invalidParams(await browser().post("/auth/signup", { email: "x@example.com", password: PASSWORD, role: "admin" })), ["role"]);
        assert.deepEqual(invalidParams(await browser().post("/auth/signup", { password: PASSWORD })), ["email"]);
        assert.deepEqual(invalidParams(await browser().post("/auth/signup", [])), [""], "the body as a whole");
      });

      it("refuses a body over 16 KiB with 413, before reading it", async () => {
        const response = await browser().post("/auth/signup", { email: "big@example.com", password: "x".repeat(17 * 1024) });
        assertProblem(response, problems.payloadTooLarge);
      });
    });

    describe("sign-in", () => {
      it("replaces the session the browser carried: the old cookie stops working", async () => {
        const { browser: b, email } = await signedUp();
        const before = b.cookie!;
        const response = await b.post("/auth/login", { email, password: PASSWORD });
        assert.equal(response.status, 200, response.text);
        assert.equal((response.json as { user: { email: string } }).user.email, email);
        assert.notEqual(b.cookie, before);
        assert.equal((await b.get("/auth/me")).status, 200);

        const stale = new TestBrowser(env.sluice.url);
        stale.cookie = before;
        assertProblem(await stale.get("/auth/me"), problems.notSignedIn);
      });

      it("answers an unknown email, a wrong password and a disabled account's wrong password with byte-identical 401s", async () => {
        const { email } = await signedUp();
        const disabled = await signedUp();
        await env.accounts.users.setDisabled(disabled.user.id, true);

        const unknown = await browser().post("/auth/login", { email: "nobody@example.com", password: PASSWORD });
        const wrong = await browser().post("/auth/login", { email, password: "wrong password" });
        const off = await browser().post("/auth/login", { email: disabled.email, password: "wrong password" });
        assertProblem(unknown, problems.badCredentials);
        for (const response of [wrong, off]) {
          assert.equal(response.status, unknown.status);
          assert.equal(response.text, unknown.text);
          assert.equal(response.headers.get("content-type"), unknown.headers.get("content-type"));
          assert.equal(response.headers.getSetCookie().length, 0);
        }
      });

      it("tells a disabled account so after its right password only, without a session", async () => {
        const disabled = await signedUp();
        await env.accounts.users.setDisabled(disabled.user.id, true);
        const response = await browser().post("/auth/login", { email: disabled.email, password: PASSWORD });
        assertProblem(response, problems.accountDisabled);
        assert.equal(response.headers.getSetCookie().length, 0);
      });

      it("says a long throttle's wait in minutes", async () => {
        const { email } = await signedUp();
        for (let i = 0; i < 5; i++) await browser().post("/auth/login", { email, password: `wrong ${i}` });
        const refused = await browser().post("/auth/login", { email, password: "wrong again" });
        assertProblem(refused, problems.rateLimited);
        assert.equal(refused.headers.get("retry-after"), String(15 * 60));
        assert.match((refused.json as { detail: string }).detail, /try again in 15 min\.$/);
      });

      it("ends a disabled user's existing session", async () => {
        const { browser: b, user } = await signedUp();
        assert.equal((await b.get("/auth/me")).status, 200);
        await env.accounts.users.setDisabled(user.id, true);
        assertProblem(await b.get("/auth/me"), problems.notSignedIn);
      });

      it("refuses the 6th attempt after 5 failures with 429 and Retry-After, even with the right password, until the window ends", async () => {
        const { email } = await signedUp();
        for (let i = 0; i < 5; i++) assertProblem(await browser().post("/auth/login", { email, password: `wrong ${i}` }), problems.badCredentials);
        env.clock.advance(MINUTE);
        const refused = await browser().post("/auth/login", { email, password: PASSWORD });
        assertProblem(refused, problems.rateLimited);
        assert.equal(refused.headers.get("retry-after"), String(14 * 60));
        assert.equal(refused.headers.getSetCookie().length, 0);

        env.clock.advance(14 * MINUTE);
        assert.equal((await browser().post("/auth/login", { email, password: PASSWORD })).status, 200);
      });

      it("throttles an unknown email exactly like a known one", async () => {
        const answers: string[] = [];
        for (let i = 0; i < 6; i++) {
          const response = await browser().post("/auth/login", { email: "ghost@example.com", password: `guess ${i}` });
          answers.push(`${response.status} ${response.headers.get("retry-after")}`);
        }
        assert.deepEqual(answers, [...Array<string>(5).fill("401 null"), `429 ${15 * 60}`]);
      });

      it("forgets the failures after a right password", async () => {
        const { email } = await signedUp();
        for (let i = 0; i < 4; i++) await browser().post("/auth/login", { email, password: "wrong password" });
        assert.equal((await browser().post("/auth/login", { email, password: PASSWORD })).status, 200);
        for (let i = 0; i < 4; i++) await browser().post("/auth/login", { email, password: "wrong password" });
        assert.equal((await browser().post("/auth/login", { email, password: PASSWORD })).status, 200, "8 failures, 4 since the success");
      });

      it("names a missing field with 400 without counting a failure", async () => {
        assert.deepEqual(invalidParams(await browser().post("/auth/login", { email: "ada@example.com" })), ["password"]);
      });
    });

    describe("sign-out", () => {
      it("ends the session and clears the cookie", async () => {
        const { browser: b } = await signedUp();
        const token = b.cookie!;
        const response = await b.post("/auth/logout");
        assert.equal(response.status, 204);
        assert.deepEqual(response.headers.getSetCookie(), ["sluice_session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"]);
        const replay = new TestBrowser(env.sluice.url);
        replay.cookie = token;
        assertProblem(await replay.get("/auth/me"), problems.notSignedIn);
      });
    });

    describe("a password change", () => {
      it("ends every session of the user and gives this browser a fresh one", async () => {
        const { browser: laptop, email } = await signedUp();
        const phone = browser();
        assert.equal((await phone.post("/auth/login", { email, password: PASSWORD })).status, 200);
        const laptopBefore = laptop.cookie!;

        const changed = await laptop.post("/auth/password", { currentPassword: PASSWORD, newPassword: "a new passphrase" });
        assert.equal(changed.status, 204, changed.text);
        assert.notEqual(laptop.cookie, laptopBefore);
        assert.equal((await laptop.get("/auth/me")).status, 200);
        assertProblem(await phone.get("/auth/me"), problems.notSignedIn);
        const stale = new TestBrowser(env.sluice.url);
        stale.cookie = laptopBefore;
        assertProblem(await stale.get("/auth/me"), problems.notSignedIn);

        assertProblem(await browser().post("/auth/login", { email, password: PASSWORD }), problems.badCredentials);
        assert.equal((await browser().post("/auth/login", { email, password: "a new passphrase" })).status, 200);
      });

      it("needs the current password, and names it when it is wrong", async () => {
        const { browser: b } = await signedUp();
        const response = await b.post("/auth/password", { currentPassword: "not it at all", newPassword: "a new passphrase" });
        assertProblem(response, problems.badCredentials);
        assert.deepEqual((response.json as { invalidParams: unknown }).invalidParams, [{ name: "currentPassword", reason: "not the current password" }]);
        assert.equal((await b.get("/auth/me")).status, 200, "still signed in");
        assert.deepEqual(invalidParams(await b.post("/auth/password", { currentPassword: PASSWORD, newPassword: "short" })), ["newPassword"]);
      });

      it("refuses the current password as the new one, saying so, and changes nothing", async () => {
        const { browser: b, email } = await signedUp();
        const same = await b.post("/auth/password", { currentPassword: PASSWORD, newPassword: PASSWORD });
        assert.deepEqual(invalidParams(same), ["newPassword"]);
        assert.match(same.text, /the same as the current password/);
        assert.equal((await b.get("/auth/me")).status, 200, "the session stands");
        assert.equal((await browser().post("/auth/login", { email, password: PASSWORD })).status, 200);
      });

      it("needs a session", async () => {
        assertProblem(await browser().post("/auth/password", { currentPassword: PASSWORD, newPassword: "a new passphrase" }), problems.notSignedIn);
      });
    });

    describe("another site", () => {
      it("cannot make a signed-in browser change its password, sign out or sign in", async () => {
        const { browser: b, email } = await signedUp();
        const evil = { origin: "http://evil.example" };
        assertProblem(await b.post("/auth/password", { currentPassword: PASSWORD, newPassword: "evil's choice!" }, evil), problems.crossSite);
        assertProblem(await b.post("/auth/logout", undefined, evil), problems.crossSite);
        assertProblem(await b.post("/auth/login", { email, password: PASSWORD }, evil), problems.crossSite);
        assert.equal((await b.get("/auth/me")).status, 200, "the session is untouched");
        assert.equal((await browser().post("/auth/login", { email, password: PASSWORD })).status, 200, "and the password too");
      });
    });
  });
}

const embedded = TEST_ENGINES.find((e) => e.name === "embedded")!;

describe("an address's failures per day", () => {
  const env = withSluice(embedded);

  it("refuse the 101st attempt of the day from one address, for every account, even with the right password", async () => {
    const owner = new TestBrowser(env.sluice.url);
    assert.equal((await owner.post("/auth/signup", { email: "owner@example.com", password: PASSWORD })).status, 201);
    for (let account = 0; account < 20; account++) {
      for (let i = 0; i < 5; i++) {
        const response = await new TestBrowser(env.sluice.url).post("/auth/login", { email: `spray-${account}@example.com`, password: `guess ${i}` });
        assert.equal(response.status, 401);
      }
    }
    env.clock.advance(MINUTE);
    const refused = await new TestBrowser(env.sluice.url).post("/auth/login", { email: "owner@example.com", password: PASSWORD });
    assertProblem(refused, problems.rateLimited);
    assert.equal(refused.headers.get("retry-after"), String(24 * 3600 - 60));
  });
});

describe("sign-up with the real hasher", () => {
  const env = withSluice(embedded, { passwords: () => new PasswordHasher() });

  it("stores an scrypt hash with OWASP's parameters, which the password verifies against", async () => {
    const response = await new TestBrowser(env.sluice.url).post("/auth/signup", { email: "real@example.com", password: PASSWORD });
    assert.equal(response.status, 201);
    assert.doesNotMatch(response.text, /scrypt/);
    const [row] = await env.db.query<{ password_hash: string }>("select password_hash from users where email_key = $1", ["real@example.com"]);
    assert.match(row!.password_hash, /^scrypt\$8192\$8\$10\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(await new PasswordHasher().verify(PASSWORD, row!.password_hash), true);
    assert.equal((await new TestBrowser(env.sluice.url).post("/auth/login", { email: "real@example.com", password: PASSWORD })).status, 200);
  });
});

describe("sign-up while the hasher is saturated", () => {
  // One hash at a time, none waiting; the first one is held until the test lets it go.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const derive: DeriveKey = async (...args) => {
    await held;
    return scryptDerive(...args);
  };
  const env = withSluice(embedded, { passwords: () => new PasswordHasher({ params: { N: 2 ** 4, r: 1, p: 1 }, newPasswords: { concurrency: 1, maxWaiting: 0 }, derive }) });

  it("answers 503 busy with Retry-After: 1", async () => {
    const first = new TestBrowser(env.sluice.url).post("/auth/signup", { email: "first@example.com", password: PASSWORD });
    while (env.accounts.passwords.hashing.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const busy = await new TestBrowser(env.sluice.url).post("/auth/signup", { email: "second@example.com", password: PASSWORD });
    assertProblem(busy, problems.busy);
    assert.equal(busy.headers.get("retry-after"), "1");
    release();
    assert.equal((await first).status, 201);
  });
});

/** Yields until `condition` holds; the tests below wait on counts, never on time. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

/**
 * A cheap hasher whose key derivations can be held (`hold`) and let go (`release`), counting each
 * derivation that runs, and holding only the passwords `holds` picks.
 */
function heldPasswords(holds: (password: string) => boolean = () => true) {
  const gate = { holding: false, derived: 0, held: [] as (() => void)[] };
  const derive: DeriveKey = async (password, ...rest) => {
    gate.derived++;
    if (gate.holding && holds(password)) await new Promise<void>((resolve) => gate.held.push(resolve));
    return scryptDerive(password, ...rest);
  };
  return {
    gate,
    release: () => {
      gate.holding = false;
      for (const resume of gate.held.splice(0)) resume();
    },
    passwords: (options: { checks?: HashingBudget; newPasswords?: HashingBudget } = {}) => new PasswordHasher({ params: { N: 2 ** 4, r: 1, p: 1 }, derive, ...options }),
  };
}

for (const engine of TEST_ENGINES) {
  describe(`20 wrong passwords sent at once, on the ${engine.name} engine`, () => {
    const hasher = heldPasswords();
    const env = withSluice(engine, { passwords: () => hasher.passwords() });

    it("get 5 passwords checked and 15 refusals with 429, before any hashing", async () => {
      const email = "burst-target@example.com";
      assert.equal((await new TestBrowser(env.sluice.url).post("/auth/signup", { email, password: PASSWORD })).status, 201);
      hasher.gate.holding = true;
      hasher.gate.derived = 0;

      let refused = 0;
      const answers = Array.from({ length: 20 }, (_, i) => new TestBrowser(env.sluice.url).post("/auth/login", { email, password: `wrong guess ${i}` }).then((response) => {
        if (response.status === 429) refused++;
        return response;
      }));
      // Every attempt has reached the hasher or been refused; only then may a password's check end.
      await until(() => {
        const { inFlight, waiting } = env.accounts.passwords.checking;
        return inFlight + waiting + refused === 20;
      });
      hasher.release();

      const statuses = (await Promise.all(answers)).map((r) => r.status).sort();
      assert.deepEqual(statuses, [...Array<number>(5).fill(401), ...Array<number>(15).fill(429)]);
      assert.equal(hasher.gate.derived, 5, "passwords checked");
      assertProblem(await new TestBrowser(env.sluice.url).post("/auth/login", { email, password: PASSWORD }), problems.rateLimited);
    });
  });
}

describe("sign-ins while the password checker is full", () => {
  // One check at a time and none waiting: while one is held, every other sign-in is busy.
  const hasher = heldPasswords();
  const env = withSluice(embedded, { passwords: () => hasher.passwords({ checks: { concurrency: 1, maxWaiting: 0 } }) });
  const signIn = (password: string) => new TestBrowser(env.sluice.url).post("/auth/login", { email: "busy-target@example.com", password });

  it("get 503 and spend none of the account's 5 attempts", async () => {
    assert.equal((await new TestBrowser(env.sluice.url).post("/auth/signup", { email: "busy-target@example.com", password: PASSWORD })).status, 201);
    hasher.gate.holding = true;
    const first = signIn("wrong guess");
    await until(() => env.accounts.passwords.checking.inFlight === 1);
    for (let i = 0; i < 6; i++) {
      const busy = await signIn(`busy guess ${i}`);
      assertProblem(busy, problems.busy);
      assert.equal(busy.headers.get("retry-after"), "1");
    }
    hasher.release();
    assert.equal((await first).status, 401);

    // One attempt spent: the owner still signs in (had the 503s counted, 7 would be, and this a 429).
    assert.equal((await signIn(PASSWORD)).status, 200);
  });
});

describe("sign-ups from one address", () => {
  const hasher = heldPasswords();
  const env = withSluice(embedded, { passwords: () => hasher.passwords(), server: 'trustedProxies: ["loopback"]' });
  const from = (ip: string) => ({ headers: { "x-forwarded-for": ip } });
  const signUp = (email: string, ip: string) => new TestBrowser(env.sluice.url).post("/auth/signup", { email, password: PASSWORD }, from(ip));

  it("find an address that has an account without hashing its password", async () => {
    assert.equal((await signUp("taken@example.com", "198.51.100.1")).status, 201);
    const derived = hasher.gate.derived;
    assertProblem(await signUp("TAKEN@example.com", "198.51.100.1"), problems.conflict);
    assert.equal(hasher.gate.derived, derived, "no scrypt work");
  });

  it("are 20 an hour, made or refused as taken: the 21st gets 429 with Retry-After and no account, other addresses sign up", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 19; i++) statuses.push((await signUp(`newcomer-${i}@example.com`, "203.0.113.7")).status);
    statuses.push((await signUp("taken@example.com", "203.0.113.7")).status);
    assert.deepEqual(statuses, [...Array<number>(19).fill(201), 409]);

    env.clock.advance(10 * MINUTE);
    const refused = await signUp("one-too-many@example.com", "203.0.113.7");
    assertProblem(refused, problems.rateLimited);
    assert.equal(refused.headers.get("retry-after"), String(50 * 60));
    assert.equal(await env.accounts.users.findByEmail("one-too-many@example.com"), undefined);

    assert.equal((await signUp("neighbour@example.com", "203.0.113.8")).status, 201, "another address");
    env.clock.advance(50 * MINUTE);
    assert.equal((await signUp("one-too-many@example.com", "203.0.113.7")).status, 201, "the next hour");
  });
});

describe("sign-ups while sign-ins go on", () => {
  // Only sign-ups' passwords are held: a flood of them fills their gate, not the sign-ins'.
  const hasher = heldPasswords((password) => password.startsWith("held "));
  const env = withSluice(embedded, { passwords: () => hasher.passwords() });

  it("fill their own gate and get 503, while a sign-in, its hash due for renewal, is answered", async () => {
    // A hash with other parameters than the hasher's: a right sign-in asks for a new one.
    const email = "regular@example.com";
    await env.accounts.users.create({ email, passwordHash: await new PasswordHasher({ params: { N: 2 ** 5, r: 1, p: 1 } }).hash(PASSWORD), role: "user", plan: "free" });
    hasher.gate.holding = true;
    const signUps = Array.from({ length: 11 }, (_, i) => new TestBrowser(env.sluice.url).post("/auth/signup", { email: `flood-${i}@example.com`, password: `held password ${i}` }));
    await until(() => env.accounts.passwords.hashing.waiting === 10);
    assertProblem(await new TestBrowser(env.sluice.url).post("/auth/signup", { email: "flood-11@example.com", password: "held password 11" }), problems.busy);

    const signIn = await new TestBrowser(env.sluice.url).post("/auth/login", { email, password: PASSWORD });
    assert.equal(signIn.status, 200, signIn.text);

    hasher.release();
    assert.deepEqual((await Promise.all(signUps)).map((r) => r.status), Array<number>(11).fill(201));
  });
});

describe("the OpenAPI fragment", () => {
  it("describes each auth endpoint, its body from the route's own schema, and its problems", () => {
    const signup = AUTH_OPENAPI_PATHS["/auth/signup"]!["post"]!;
    const schema = signup.requestBody!.content["application/json"]!.schema as { required: string[]; additionalProperties: boolean; properties: Record<string, unknown> };
    assert.deepEqual(schema.required, ["email", "password"]);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(AUTH_OPENAPI_PATHS).sort(), ["/auth/login", "/auth/logout", "/auth/me", "/auth/password", "/auth/signup"]);
    for (const item of Object.values(AUTH_OPENAPI_PATHS)) {
      for (const operation of Object.values(item) as { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }[]) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400) assert.deepEqual(response.content?.["application/problem+json"]?.schema, { $ref: "#/components/schemas/Problem" }, status);
        }
      }
    }
    assert.deepEqual(AUTH_OPENAPI_PATHS["/auth/me"]!["get"]!.security, [{ session: [] }]);
    assert.equal(SESSION_SECURITY_SCHEMES.session.in, "cookie");
    assert.equal(SESSION_SECURITY_SCHEMES.session.name, "sluice_session");
  });
});
