// One map from domain errors to what callers see: every error class of src/ that carries a
// SLUICE_ERR_* code has its entry, no entry outlives its class, and the HTTP edge (the control
// plane's error handler) and the CLI (describeFailure) both answer from it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { PasswordHashingBusy, PasswordRejected, MalformedPasswordHash } from "../../src/accounts/passwords.js";
import { InvalidPlan, PlanInUse, UnknownPlan } from "../../src/accounts/plans.js";
import { EmailTaken, InvalidCursor, InvalidEmail } from "../../src/accounts/users.js";
import { describeFailure, InvalidInput, NotFound, Refused } from "../../src/cli/cliErrors.js";
import { ConfigError } from "../../src/config/loader.js";
import { DatabaseInUse } from "../../src/db/embeddedDatabase.js";
import { DataDirNotPrivate } from "../../src/db/privateFiles.js";
import { problems } from "../../src/problems/catalogue.js";
import { DOMAIN_ERRORS, domainErrorOf, problemOfDomainError } from "../../src/problems/domainErrors.js";
import { useProblemResponses } from "../../src/problems/fastifyProblems.js";
import { StoreTimeout } from "../../src/stores/store.js";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** Every `readonly code = "SLUICE_ERR_…"` an error class of src/ declares, with its file. */
function declaredCodes(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) {
        for (const [, code] of readFileSync(path, "utf8").matchAll(/readonly code = "(SLUICE_ERR_[A-Z_]+)"/g)) found.set(code!, path.slice(SRC.length));
      }
    }
  };
  walk(SRC);
  return found;
}

/** One instance of each domain error class. */
const EXAMPLES: readonly Error[] = [
  new EmailTaken("ada@example.com"),
  new InvalidEmail("not-an-address"),
  new InvalidCursor(),
  new PasswordRejected("use at least 8 characters"),
  new PasswordHashingBusy(),
  new MalformedPasswordHash("no salt"),
  new InvalidPlan([{ name: "limits.gold.window", reason: "not a duration" }]),
  new UnknownPlan("gold"),
  new PlanInUse("gold", 2, 1),
  new DatabaseInUse("/var/lib/sluice/db", 4242),
  new DataDirNotPrivate("/var/lib/sluice/db", "/var/lib/sluice/db/PG_VERSION", 1000, Object.assign(new Error("EPERM"), { code: "EPERM" })),
  new StoreTimeout(50, Promise.resolve(undefined)),
  new ConfigError("sluice.yaml", []),
  new NotFound("no user with the id 42"),
  new InvalidInput("cannot read plan.yaml: file not found"),
  new Refused("key k cannot be rotated: it is revoked; create a new key instead"),
];

describe("the domain-error map", () => {
  it("has an entry for every error class that carries a code, and none for a code no class carries", () => {
    const declared = declaredCodes();
    assert.deepEqual([...declared.keys()].filter((code) => !Object.hasOwn(DOMAIN_ERRORS, code)), [], "codes without an entry");
    assert.deepEqual(Object.keys(DOMAIN_ERRORS).filter((code) => !declared.has(code)), [], "entries without a class");
  });

  it("is exercised here by one instance of every class", () => {
    assert.deepEqual(EXAMPLES.map((error) => domainErrorOf(error)?.code).sort(), Object.keys(DOMAIN_ERRORS).sort());
  });

  it("gives the CLI each error's exit code, with its code in the message", () => {
    for (const error of EXAMPLES) {
      const failure = describeFailure(error);
      const { code, exitCode } = domainErrorOf(error)!;
      assert.equal(failure?.exitCode, exitCode, code);
      assert.match(failure.lines[0]!, new RegExp(`\\(${code}\\)`), code);
    }
  });

  it("knows nothing of other errors: no problem, no exit code but the CLI's own for an unreachable database", () => {
    assert.equal(domainErrorOf(new Error("boom")), undefined);
    assert.equal(domainErrorOf(Object.assign(new Error("duplicate key"), { code: "23505" })), undefined);
    assert.equal(problemOfDomainError(new TypeError("x")), undefined);
    assert.equal(describeFailure(new Error("boom")), undefined);
  });

  describe("answered over HTTP by the control plane's error handler", () => {
    let app: FastifyInstance;
    before(async () => {
      app = Fastify({ logger: false });
      useProblemResponses(app);
      app.get<{ Params: { index: string } }>("/throw/:index", (request) => {
        throw EXAMPLES[Number(request.params.index)]!;
      });
      await app.ready();
    });
    after(() => app.close());

    it("as the problem its entry names: a refusal with its code, a failure as a 500 that says nothing", async () => {
      for (const [index, error] of EXAMPLES.entries()) {
        const meaning = domainErrorOf(error)!;
        const response = await app.inject({ method: "GET", url: `/throw/${index}` });
        const body = response.json<{ code: string; detail: string; invalidParams?: { name: string }[] }>();
        assert.equal(response.statusCode, meaning.problem.status, meaning.code);
        assert.equal(body.code, meaning.problem.code, meaning.code);
        assert.equal(response.headers["content-type"], "application/problem+json");
        if (meaning.problem === problems.internal) assert.equal(body.detail, "An unexpected error occurred.", meaning.code);
        if ("field" in meaning) assert.deepEqual(body.invalidParams?.map((p) => p.name), [meaning.field], meaning.code);
      }
    });

    it("with the fields an invalid plan names, and Retry-After for a busy hashing gate", async () => {
      const plan = await app.inject({ method: "GET", url: `/throw/${EXAMPLES.findIndex((e) => e instanceof InvalidPlan)}` });
      assert.deepEqual(plan.json<{ invalidParams: unknown }>().invalidParams, [{ name: "limits.gold.window", reason: "not a duration" }]);
      const busy = await app.inject({ method: "GET", url: `/throw/${EXAMPLES.findIndex((e) => e instanceof PasswordHashingBusy)}` });
      assert.equal(busy.statusCode, 503);
      assert.equal(busy.headers["retry-after"], "1");
    });
  });
});
