// Part of `npm run build`: the dashboard's static files (src/dashboard/assets) beside its compiled
// module in dist/, fresh each build. Plain JavaScript, so it runs before anything is compiled.
import { cpSync, rmSync } from "node:fs";

rmSync("dist/dashboard/assets", { recursive: true, force: true });
cpSync("src/dashboard/assets", "dist/dashboard/assets", { recursive: true });
