/**
 * The `usage_minutes` table (migration 4): allowed and limited requests per subject per minute.
 * A subject is who called: `key:<API key id>`, `user:<user id>` for a signed-in user's session
 * calls (the dashboard's playground). Keys from the config file have no usage kept.
 *
 * Written only by the usage recorder (usageRecorder.ts), in upserts of up to 500 rows per flush,
 * one row per (subject, minute) it counted, that ADD to the stored counts, so several instances, and
 * several flushes within one minute, sum correctly. Read as series for charts: per minute or per
 * hour, with the empty minutes and hours filled in as zeros so a chart has every bar.
 *
 * @example
 * const usage = usageRepository(db);
 * await usage.add([{ subject: "key:…", minute: new Date("2026-11-24T08:01:00Z"), allowed: 3, limited: 1 }]);
 * await usage.series(["key:…"], { from, to, stepMs: 60_000 }); // → [{ at, allowed, limited }, …]
 */
import type { Queryable } from "../db/database.js";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/** Counts of one subject in one minute. */
export interface UsageRow {
  readonly subject: string;
  /** The minute's start. */
  readonly minute: Date;
  readonly allowed: number;
  readonly limited: number;
}

/** One bar of a chart: the counts from `at` for one step (a minute or an hour). */
export interface UsagePoint {
  /** Epoch ms of the step's start. */
  readonly at: number;
  readonly allowed: number;
  readonly limited: number;
}

export interface UsageRepository {
  /** Adds the counts to the stored ones, in one statement; rows must not repeat a (subject, minute). */
  add(rows: readonly UsageRow[]): Promise<void>;
  /**
   * The subjects' counts summed per step from `from` (inclusive, a step boundary) to `to`
   * (exclusive), one point per step, zeros where nothing was recorded.
   */
  series(subjects: readonly string[], range: { readonly from: number; readonly to: number; readonly stepMs: number }): Promise<UsagePoint[]>;
  /** Deletes the minutes before `before`; returns how many rows went. */
  deleteBefore(before: Date): Promise<number>;
}

export function usageRepository(db: Queryable): UsageRepository {
  return {
    async add(rows) {
      if (rows.length === 0) return;
      // Columns as arrays and unnest: one statement, however many rows, on both engines.
      await db.query(
        `insert into usage_minutes (subject, minute, allowed, limited)
           select * from unnest($1::text[], $2::timestamptz[], $3::int[], $4::int[])
         on conflict (subject, minute) do update
           set allowed = usage_minutes.allowed + excluded.allowed, limited = usage_minutes.limited + excluded.limited`,
        [rows.map((r) => r.subject), rows.map((r) => r.minute.toISOString()), rows.map((r) => r.allowed), rows.map((r) => r.limited)],
      );
    },

    async series(subjects, { from, to, stepMs }) {
      const steps = Math.max(0, Math.ceil((to - from) / stepMs));
      const points = Array.from({ length: steps }, (_, i) => ({ at: from + i * stepMs, allowed: 0, limited: 0 }));
      if (subjects.length === 0 || steps === 0) return points;
      // Bucketed in SQL (whole steps since `from`), summed as float8: a JavaScript number on both
      // engines, where a bigint sum would come back as a string from one of them.
      const rows = await db.query<{ step: number; allowed: number; limited: number }>(
        `select floor(extract(epoch from (minute - $2::timestamptz)) * 1000 / $4)::int as step,
                sum(allowed)::float8 as allowed, sum(limited)::float8 as limited
           from usage_minutes
          where subject = any($1::text[]) and minute >= $2 and minute < $3
          group by 1`,
        [subjects, new Date(from).toISOString(), new Date(to).toISOString(), stepMs],
      );
      for (const row of rows) {
        const point = points[row.step];
        if (point !== undefined) {
          point.allowed = row.allowed;
          point.limited = row.limited;
        }
      }
      return points;
    },

    async deleteBefore(before) {
      const rows = await db.query<{ n: number }>(
        "with gone as (delete from usage_minutes where minute < $1 returning 1) select count(*)::int as n from gone",
        [before.toISOString()],
      );
      return rows[0]?.n ?? 0;
    },
  };
}
