/** The config schema as JSON Schema (draft 2020-12), for editors; `npm run schema` writes it to schema/. */
import { z } from "zod";
import { configSchema } from "./schema.js";

export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
    title: "Sluice configuration",
  };
}
