/** The algorithm registry: policy.algorithm → its pure implementation. */
import type { Algorithm } from "../algorithm.js";
import type { AlgorithmName } from "../policy.js";
import { fixedWindow } from "./fixedWindow.js";
import { gcra } from "./gcra.js";
import { slidingWindowLog } from "./slidingWindowLog.js";

export { fixedWindow, gcra, slidingWindowLog };

export const algorithms: { readonly [N in AlgorithmName]: Algorithm<unknown> } = {
  "gcra": gcra,
  "sliding-window-log": slidingWindowLog,
  "fixed-window": fixedWindow,
};
