/**
 * `sluice plans list|show|set`: the plans users and keys are on, from the command line.
 *
 * A plan's limits are written exactly as the config file's `limits` (docs/config.md#limits), in
 * YAML or JSON: `plans set gold --file gold.yaml` reads a file holding `description` and
 * `limits` — the form `plans show` prints, so show, edit, set is a round trip — and
 * `--limits '{…}'` takes the limits alone. The repository validates with the config schema;
 * every bad field is listed and nothing is saved (exit 2).
 *
 * @example
 * // sluice plans set gold --limits '{ gold-rate: { algorithm: gcra, limit: 50, window: 1m } }'
 * // sluice plans show gold > gold.yaml && $EDITOR gold.yaml && sluice plans set gold --file gold.yaml
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { UnknownPlan, type Plan, type PlanDefinition } from "../accounts/plans.js";
import { limitSchema, type LimitInput } from "../config/schema.js";
import { parseCommandArgs, withAccounts, type AccountCommand, type CommandIo } from "./accountCommand.js";
import { InvalidInput, UsageError } from "./cliErrors.js";
import { cliOutput } from "./cliOutput.js";

export const plansCommand: AccountCommand = async (args, io) => {
  const [sub, ...rest] = args;
  switch (sub) {
    case "list": return plansList(rest, io);
    case "show": return plansShow(rest, io);
    case "set": return plansSet(rest, io);
    default:
      throw new UsageError(sub === undefined ? "plans needs a command: list, show or set" : `unknown command "plans ${sub}"`, "plans");
  }
};

async function plansList(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("plans list", args, {});
  const plans = await withAccounts(io, (accounts) => accounts.plans.list());
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(plans, () => {
    if (plans.length === 0) return out.line("No plans.");
    out.table(["NAME", "LIMITS", "DESCRIPTION"], plans.map((p) => [p.name, summarizeLimits(p.limits), p.description]));
  });
  return 0;
}

async function plansShow(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("plans show", args, {}, ["NAME"]);
  const name = positionals[0]!;
  const plan = await withAccounts(io, (accounts) => accounts.plans.get(name));
  if (plan === undefined) throw new UnknownPlan(name);
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(plan, () => {
    out.line(`# plan "${plan.name}"; save with: sluice plans set ${plan.name} --file FILE`);
    const limits = Object.fromEntries(Object.entries(plan.limits).map(([name, limit]) => [name, inSchemaOrder(limit)]));
    io.stdout.write(stringifyYaml({ description: plan.description, limits }));
  });
  return 0;
}

async function plansSet(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("plans set", args, {
    file: { type: "string", short: "f" },
    limits: { type: "string" },
    description: { type: "string" },
  }, ["NAME"]);
  const name = positionals[0]!;
  if ((values.file === undefined) === (values.limits === undefined)) throw new UsageError("plans set takes --file FILE or --limits TEXT (one of them)", "plans");
  const given = values.file !== undefined ? await readDefinition(values.file) : { limits: parseText("--limits", values.limits!) };
  const { plan, created } = await withAccounts(io, async (accounts) => {
    const existing = await accounts.plans.get(name);
    // --limits alone leaves the description as it was; a file says everything, unless --description overrides it.
    const description = values.description ?? (values.file === undefined ? existing?.description : undefined);
    const definition = description !== undefined && isMapping(given) ? { ...given, description } : given;
    // The repository validates it (the schema of the config file's limits) and names every bad field.
    return { plan: await accounts.plans.set(name, definition as PlanDefinition), created: existing === undefined };
  });
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(plan, () => {
    out.line(`${created ? "Created" : "Updated"} plan "${plan.name}": ${summarizeLimits(plan.limits)}.`);
  });
  return 0;
}

/** The plan in a YAML or JSON file: `description` and `limits`, as far as the schema will tell. */
async function readDefinition(file: string): Promise<unknown> {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInput(`cannot read ${file}: ${code === "ENOENT" ? "file not found" : (error as Error).message}`);
  }
  return parseText(file, text);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseText(source: string, text: string): unknown {
  try {
    return parseYaml(text) as unknown; // YAML is a superset of JSON: both are welcome
  } catch (error) {
    throw new InvalidInput(`${source} is not valid YAML or JSON: ${(error as Error).message.split("\n")[0]!.replace(/:$/, "")}`);
  }
}

/** "free-rate: 5/30s sliding-window-log; …", as a table cell or a sentence. */
export function summarizeLimits(limits: Plan["limits"]): string {
  const entries = Object.entries(limits);
  if (entries.length === 0) return "(no limits)";
  return entries.map(([name, limit]) => `${name}: ${describeLimit(limit)}`).join("; ");
}

function describeLimit(limit: LimitInput): string {
  const algorithm = limit.algorithm ?? "gcra";
  if (algorithm === "concurrency") return `${limit.limit} at once (concurrency)`;
  return `${limit.limit}/${limit.window ?? "?"} ${algorithm}`;
}

/** The limit's fields in the order docs/config.md lists them (the database keeps its own order). */
function inSchemaOrder(limit: LimitInput): LimitInput {
  const order = Object.keys(limitSchema.shape);
  return Object.fromEntries(Object.entries(limit).sort(([a], [b]) => rank(order, a) - rank(order, b))) as LimitInput;
}

function rank(order: readonly string[], field: string): number {
  const i = order.indexOf(field);
  return i === -1 ? order.length : i;
}
