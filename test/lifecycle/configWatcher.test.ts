// Watching the config file: a change of content is reported once per burst of writes, however
// the file was written (in place, or a new file renamed over it as editors save); a write that
// leaves the content as it was is no change; other files in the directory are not the config.
import assert from "node:assert/strict";
import { mkdtemp, rename, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { watchConfigFile, type ConfigWatcher } from "../../src/lifecycle/configWatcher.js";
import { pollUntil } from "../support/poll.js";

const DEBOUNCE_MS = 50;
/** Long enough for the watcher to have reported anything it was going to report. */
const SETTLE_MS = DEBOUNCE_MS * 6;

describe("watchConfigFile", () => {
  let dir: string;
  let file: string;
  let watcher: ConfigWatcher;
  let changes = 0;
  const changesAfter = async (settle = SETTLE_MS) => (await delay(settle), changes);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-watch-"));
    file = join(dir, "sluice.yaml");
    await writeFile(file, "services: {}\n");
    watcher = await watchConfigFile(file, () => changes++, { debounceMs: DEBOUNCE_MS });
  });
  after(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reports a file rewritten in place, once for a burst of writes", async () => {
    await writeFile(file, "limits: {}\n");
    await writeFile(file, "limits: {}\nservices: {}\n");
    assert.equal(await pollUntil(() => changesAfter(20), (n) => n > 0, 2_000), 1);
    assert.equal(await changesAfter(), 1);
  });

  it("reports a new file renamed over the old one", async () => {
    await writeFile(`${file}.tmp`, "consumers: {}\n");
    await rename(`${file}.tmp`, file);
    assert.equal(await pollUntil(() => changesAfter(20), (n) => n > 1, 2_000), 2);
  });

  it("reports nothing for a write of the same content, a touch, or another file", async () => {
    await writeFile(file, "consumers: {}\n");
    await utimes(file, new Date(), new Date());
    await writeFile(join(dir, "notes.txt"), "not the config");
    assert.equal(await changesAfter(), 2);
  });
});
