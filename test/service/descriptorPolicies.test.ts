// Named policies resolve as Envoy's rate-limit service resolves domains and descriptors: a rule
// with a key alone is the default for every value of that key, a rule with a value overrides it
// for that value, a rule without a limit makes its entries unlimited, and nested rules match the
// descriptor's next entry. Each value counts on its own; counters keep their key when a limit's
// numbers change but not when its algorithm does, and never meet the gateway's keys.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig, type ConfigError } from "../../src/config/loader.js";
import { compilePolicyBook, descriptorCheck, type DescriptorLimit } from "../../src/service/descriptorPolicies.js";

const book = (yaml: string) => compilePolicyBook(parseConfig(yaml, "test.yaml").policies);

const EMAILS = `
policies:
  emails:
    descriptors:
      - key: identifier
        limit: { limit: 10, window: 1m }
      - key: identifier
        value: newsletter
        limit: { algorithm: fixed-window, limit: 1000, window: 1h }
      - key: identifier
        value: ops
      - key: plan
        value: pro
        descriptors:
          - key: identifier
            limit: { algorithm: token-bucket, limit: 100, capacity: 200, window: 1m }
      - key: plan
        descriptors:
          - key: identifier
            limit: { limit: 5, window: 1m }
`;

const limited = (limit: DescriptorLimit | undefined): Extract<DescriptorLimit, { kind: "limited" }> => {
  if (limit?.kind !== "limited") assert.fail(`expected a limit, got ${JSON.stringify(limit)}`);
  return limit;
};

describe("compilePolicyBook", () => {
  const emails = book(EMAILS);

  it("applies a key's default rule to every value, one counter per value", () => {
    const a = limited(emails.resolve("emails", [{ key: "identifier", value: "user-1" }]));
    const b = limited(emails.resolve("emails", [{ key: "identifier", value: "user-2" }]));
    assert.equal(a.policy, b.policy, "one compiled policy, shared");
    assert.deepEqual([a.policy.name, a.policy.algorithm, a.policy.limit, a.policy.windowMs], ["emails.identifier", "gcra", 10, 60_000]);
    assert.equal(a.key, "svc-policy:emails:gcra|identifier=user-1");
    assert.notEqual(a.key, b.key);
  });

  it("lets a rule with a value override the default for that value", () => {
    const override = limited(emails.resolve("emails", [{ key: "identifier", value: "newsletter" }]));
    assert.deepEqual([override.policy.name, override.policy.algorithm, override.policy.limit], ["emails.identifier=newsletter", "fixed-window", 1000]);
  });

  it("makes the entries of a rule without a limit unlimited", () => {
    assert.deepEqual(emails.resolve("emails", [{ key: "identifier", value: "ops" }]), { kind: "unlimited" });
  });

  it("matches nested rules entry by entry, an override before the default at each level", () => {
    const pro = limited(emails.resolve("emails", [{ key: "plan", value: "pro" }, { key: "identifier", value: "u" }]));
    assert.deepEqual([pro.policy.name, pro.policy.algorithm], ["emails.plan=pro.identifier", "token-bucket"]);
    assert.equal(pro.key, "svc-policy:emails:token-bucket|plan=pro&identifier=u");
    const free = limited(emails.resolve("emails", [{ key: "plan", value: "free" }, { key: "identifier", value: "u" }]));
    assert.equal(free.policy.name, "emails.plan.identifier");
    assert.equal(free.policy.limit, 5);
  });

  it("limits nothing when an entry matches no rule, or the last entry stops at a rule without a limit", () => {
    assert.deepEqual(emails.resolve("emails", [{ key: "ip", value: "10.0.0.1" }]), { kind: "no-rule" });
    assert.deepEqual(emails.resolve("emails", [{ key: "plan", value: "pro" }]), { kind: "unlimited" });
    assert.deepEqual(emails.resolve("emails", [{ key: "identifier", value: "u" }, { key: "extra", value: "x" }]), { kind: "no-rule" });
    assert.deepEqual(emails.resolve("emails", []), { kind: "no-rule" });
  });

  it("answers undefined for a policy the config does not define", () => {
    assert.equal(emails.resolve("sms", [{ key: "identifier", value: "u" }]), undefined);
    assert.deepEqual(emails.domains, ["emails"]);
    assert.equal(emails.has("emails"), true);
    assert.equal(emails.has("sms"), false);
  });

  it("encodes keys and values, so separators in a value cannot make two descriptors one counter", () => {
    const tricky = limited(emails.resolve("emails", [{ key: "plan", value: "a&identifier=b" }, { key: "identifier", value: "c|d{e}" }]));
    const plain = limited(emails.resolve("emails", [{ key: "plan", value: "a" }, { key: "identifier", value: "b&identifier=c|d{e}" }]));
    assert.notEqual(tricky.key, plain.key);
    assert.equal(tricky.key.split("|").length, 2, "one | only: the Redis store's subject separator");
    assert.doesNotMatch(tricky.key.split("|")[1]!, /[{}]/, "no braces: the hash tag is the whole subject");
  });

  it("keeps a counter's key when the limit's numbers change, not when its algorithm does", () => {
    const entries = [{ key: "identifier", value: "u" }];
    const before = limited(emails.resolve("emails", entries));
    const raised = limited(book(EMAILS.replace("limit: { limit: 10, window: 1m }", "limit: { limit: 50, window: 2m }")).resolve("emails", entries));
    const changed = limited(book(EMAILS.replace("limit: { limit: 10, window: 1m }", "limit: { algorithm: sliding-window-log, limit: 10, window: 1m }")).resolve("emails", entries));
    assert.equal(raised.key, before.key);
    assert.notEqual(changed.key, before.key);
  });

  it("keeps its keys apart from the gateway's, whose first part is a limit name without ':'", () => {
    const { key } = limited(emails.resolve("emails", [{ key: "identifier", value: "u" }]));
    assert.match(key.slice(0, key.indexOf("|")), /:/);
  });

  it("gives the store a check of the descriptor's cost", () => {
    const limit = limited(emails.resolve("emails", [{ key: "identifier", value: "u" }]));
    assert.deepEqual(descriptorCheck(limit, 3), { key: limit.key, policy: limit.policy, cost: 3 });
  });
});

describe("policies in the config", () => {
  const issues = (yaml: string): string[] => {
    try {
      parseConfig(yaml, "test.yaml");
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it("refuses two rules that match the same key and value at one level", () => {
    assert.deepEqual(issues("policies:\n  p:\n    descriptors:\n      - { key: k }\n      - { key: k }\n"), [
      'policies.p.descriptors.1: another rule of this level already matches key "k" with no value',
    ]);
  });

  it("refuses `by` and concurrency in a policy's limit", () => {
    const found = issues("policies:\n  p:\n    descriptors:\n      - { key: k, limit: { limit: 1, window: 1s, by: [ip] } }\n      - { key: j, limit: { algorithm: concurrency, limit: 1 } }\n");
    assert.equal(found.length, 2);
    assert.match(found[0]!, /^policies\.p\.descriptors\.0\.limit\.by: /);
    assert.match(found[1]!, /^policies\.p\.descriptors\.1\.limit\.algorithm: /);
  });

  it("accepts a config without policies", () => {
    assert.deepEqual(parseConfig("", "test.yaml").policies, {});
  });
});
