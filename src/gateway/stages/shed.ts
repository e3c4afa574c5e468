/**
 * Stage 2, shed: when this process cannot keep up (edge/loadShedder.ts), a new request is
 * refused with 503 and `Retry-After` here, after it is identified (so the refusal carries its
 * request id into the access log) and before anything authenticates or counts it: a shed request
 * is never charged against a limit, nor admitted past one.
 */
import type { LoadShedder } from "../../edge/loadShedder.js";
import { SHED_RETRY_AFTER_SECONDS } from "../../edge/loadShedder.js";
import { problems } from "../../problems/catalogue.js";
import type { Stage } from "../exchange.js";

const RETRY_AFTER = { "retry-after": String(SHED_RETRY_AFTER_SECONDS) };

export function shed(shedder: Pick<LoadShedder, "shed">): Stage {
  return function shed() {
    const why = shedder.shed("gateway");
    return why === undefined ? undefined : { kind: problems.overloaded, detail: `Sluice is overloaded: ${why}. Retry in ${SHED_RETRY_AFTER_SECONDS}s.`, headers: RETRY_AFTER };
  };
}
