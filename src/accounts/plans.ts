/**
 * The plans table: named sets of limits that users (and API keys, overriding their owner) are on.
 * A plan's limits have the config file's shape (docs/config.md#limits), are validated by the
 * same schema (`limitSchema`), and are stored as written — durations stay strings such as "30s"
 * — so the dashboard shows them back as they were entered and the gateway compiles them with
 * the code that compiles config limits (`planLimitConfigs`).
 *
 * Migration 2 seeds `free` and `premium`. A plan that users or keys are on cannot be removed.
 *
 * @example
 * const plans = new PlanRepository(db);
 * await plans.set("gold", { description: "Gold", limits: { "gold-rate": { algorithm: "gcra", limit: 50, window: "1m" } } });
 * planLimitConfigs(await plans.get("gold")) // → { "gold-rate": { algorithm: "gcra", limit: 50, window: 60000, by: ["consumer"], … } }
 */
import { z } from "zod";
import { invalidParams, type InvalidParam } from "../config/invalidParams.js";
import { limitSchema, nameSchema, type LimitConfig, type LimitInput } from "../config/schema.js";
import type { Queryable } from "../db/database.js";

export interface Plan {
  readonly name: string;
  readonly description: string;
  /** Limit name → limit, as written. */
  readonly limits: Readonly<Record<string, LimitInput>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface PlanDefinition {
  readonly description?: string | undefined;
  readonly limits: Readonly<Record<string, LimitInput>>;
}

export const MAX_DESCRIPTION_LENGTH = 500;

const planDefinition = z.strictObject({
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  limits: z.record(nameSchema, limitSchema),
});

/** A plan's name or definition breaks the schema; `issues` name each field. */
export class InvalidPlan extends Error {
  readonly code = "SLUICE_ERR_INVALID_PLAN";
  constructor(readonly issues: readonly InvalidParam[]) {
    super(`invalid plan: ${issues.map((i) => `${i.name}: ${i.reason}`).join("; ")}`);
    this.name = "InvalidPlan";
  }
}

/** No plan has this name. */
export class UnknownPlan extends Error {
  readonly code = "SLUICE_ERR_UNKNOWN_PLAN";
  constructor(readonly plan: string) {
    super(`no plan named "${plan}"`);
    this.name = "UnknownPlan";
  }
}

/** The plan cannot be removed while users or API keys are on it. */
export class PlanInUse extends Error {
  readonly code = "SLUICE_ERR_PLAN_IN_USE";
  constructor(readonly plan: string, readonly users: number, readonly apiKeys: number) {
    super(`plan "${plan}" is in use by ${users} user(s) and ${apiKeys} API key(s); move them to another plan first`);
    this.name = "PlanInUse";
  }
}

/** The plan's limits compiled exactly as the config file's are (durations in ms, defaults applied). */
export function planLimitConfigs(plan: Pick<Plan, "limits">): Record<string, LimitConfig> {
  return Object.fromEntries(Object.entries(plan.limits).map(([name, limit]) => [name, limitSchema.parse(limit)]));
}

interface PlanRow {
  name: string;
  description: string;
  limits: Record<string, LimitInput>;
  created_at: Date;
  updated_at: Date;
}

const PLAN_COLUMNS = "name, description, limits, created_at, updated_at";

function toPlan(row: PlanRow): Plan {
  return { name: row.name, description: row.description, limits: row.limits, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** NOTIFY channel of plan changes (payload: the plan's name); the gateway reloads plan limits on it. */
export const PLANS_CHANNEL = "sluice_plans";

export class PlanRepository {
  constructor(private readonly db: Queryable) {}

  /** Every plan, by name. */
  async list(): Promise<Plan[]> {
    const rows = await this.db.query<PlanRow>(`select ${PLAN_COLUMNS} from plans order by name collate "C"`);
    return rows.map(toPlan);
  }

  async get(name: string): Promise<Plan | undefined> {
    const [row] = await this.db.query<PlanRow>(`select ${PLAN_COLUMNS} from plans where name = $1`, [name]);
    return row && toPlan(row);
  }

  /** Creates the plan or replaces its description and limits; InvalidPlan names every bad field. */
  async set(name: string, definition: PlanDefinition): Promise<Plan> {
    const issues: InvalidParam[] = [];
    const named = nameSchema.safeParse(name);
    if (!named.success) issues.push(...named.error.issues.map((i) => ({ name: "name", reason: i.message })));
    const defined = planDefinition.safeParse(definition);
    if (!defined.success) issues.push(...invalidParams(defined.error));
    if (issues.length > 0) throw new InvalidPlan(issues);
    // The definition as given, not zod's output: the stored limits keep their written form.
    const [row] = await this.db.query<PlanRow>(
      `insert into plans (name, description, limits) values ($1, $2, $3::jsonb)
       on conflict (name) do update set description = excluded.description, limits = excluded.limits, updated_at = now()
       returning ${PLAN_COLUMNS}`,
      [name, definition.description ?? "", JSON.stringify(definition.limits)],
    );
    await this.#announce(name);
    return toPlan(row!);
  }

  /** Removes the plan; false when there is none; PlanInUse while users or API keys are on it. */
  async remove(name: string): Promise<boolean> {
    const inUse = async () => {
      const [row] = await this.db.query<{ users: number; keys: number }>(
        "select (select count(*)::int from users where plan = $1) as users, (select count(*)::int from api_keys where plan = $1) as keys",
        [name],
      );
      return row!;
    };
    const before = await inUse();
    if (before.users > 0 || before.keys > 0) throw new PlanInUse(name, before.users, before.keys);
    try {
      const deleted = await this.db.query("delete from plans where name = $1 returning name", [name]);
      if (deleted.length > 0) await this.#announce(name);
      return deleted.length > 0;
    } catch (error) {
      // Someone joined the plan between the count and the delete: the foreign key refused it.
      if ((error as { code?: unknown }).code === "23503") {
        const after = await inUse();
        throw new PlanInUse(name, after.users, after.keys);
      }
      throw error;
    }
  }

  /** Tells every instance (inside a transaction: once it commits) that the plan changed. */
  async #announce(name: string): Promise<void> {
    await this.db.query("select pg_notify($1, $2)", [PLANS_CHANNEL, name]);
  }
}
