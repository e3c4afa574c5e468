/** Writes schema/sluice.config.schema.json from the config schema; a test fails when it is stale. */
import { writeFile } from "node:fs/promises";
import { configJsonSchema } from "../src/config/jsonSchema.js";

const target = new URL("../schema/sluice.config.schema.json", import.meta.url);
await writeFile(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
