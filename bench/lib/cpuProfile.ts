/**
 * Reading a V8 `.cpuprofile` (what `node --cpu-prof` writes): self time by function, by file and
 * by part of the gateway (node:http, undici, each pipeline stage, the limiter, logging…), and the
 * inclusive time of the pipeline's stage functions (with everything they call).
 *
 * A profile is a tree of call frames (`nodes`) and a list of samples, each the id of the node that
 * was on top of the stack, with the time since the previous sample (`timeDeltas`, µs). Self time of
 * a node = the sum of the deltas of its samples; samples outside [fromUs, toUs] are ignored, so the
 * start-up and the warm-up do not count.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  /** µs of samples. */
  readonly us: number;
  /** Fraction of the busy time (all samples but `(idle)`). */
  readonly share: number;
}

export interface ProfileSummary {
  /** µs covered by the samples in the window, idle included. */
  readonly windowUs: number;
  /** µs not idle. */
  readonly busyUs: number;
  readonly samples: number;
  readonly byFunction: readonly Share[];
  readonly byFile: readonly Share[];
  readonly byPart: readonly Share[];
  /** The pipeline's functions with everything they call (a function counted once per sample). */
  readonly inclusive: readonly Share[];
}

/** Functions of ours whose inclusive time is reported: the handler, the runner and the five stages. */
const PIPELINE_FUNCTIONS = new Set(["gateway", "runPipeline", "identify", "authenticate", "route", "limit", "proxy", "upstreamRequestHeaders", "clientResponseHeaders", "sendProblem"]);

/**
 * Which part of the process a frame belongs to. Our code is recognised by its path under dist/
 * (or src/, when run through tsx); everything else by its module.
 */
export function partOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(garbage collector)") return "V8: garbage collector";
    if (functionName === "(program)") return "V8/native: (program)";
    if (functionName === "(idle)") return "(idle)";
    return `native: ${functionName || "(anonymous)"}`;
  }
  const ours = /\/(?:dist|src)\/(gateway\/stages\/\w+|gateway|stores|limiter|accounts|observability|problems|control|[\w]+)[/.]/.exec(url);
  if (ours !== null && !url.includes("node_modules")) {
    const area = ours[1]!;
    if (area.startsWith("gateway/stages/")) return `sluice: stage ${area.slice("gateway/stages/".length)}`;
    if (area === "stores" || area === "limiter") return "sluice: limiter + store";
    if (area === "observability") return "logging + metrics";
    return `sluice: ${area}`;
  }
  const pkg = /node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\//.exec(url);
  if (pkg !== null) {
    const name = pkg[1]!;
    if (name === "pino" || name.startsWith("pino-") || name === "sonic-boom" || name === "prom-client") return "logging + metrics";
    return `npm: ${name}`;
  }
  if (url.startsWith("node:")) {
    const mod = url.slice("node:".length);
    if (/^_http_|^http$|^internal\/http/.test(mod)) return "node: http (parse, write)";
    if (/^net$|^internal\/net|^internal\/stream_base_commons|^stream|^internal\/streams/.test(mod)) return "node: net + streams";
    if (/crypto/.test(mod)) return "node: crypto";
    if (/^internal\/(process\/task_queues|timers|async_hooks)|^timers|^events/.test(mod)) return "node: event loop, timers, events";
    return `node: ${mod}`;
  }
  return url.startsWith("file://") ? `other: ${url.slice(url.lastIndexOf("/") + 1)}` : `other: ${url}`;
}

/** A WebAssembly function, or V8's trampoline into one. */
function isWasm(frame: CallFrame): boolean {
  return frame.url.startsWith("wasm://") || (frame.url === "" && /ToWasm|WasmTo/.test(frame.functionName));
}

function fileOf(frame: CallFrame): string {
  if (frame.url === "") return frame.functionName;
  const at = frame.url.search(/\/(dist|src|node_modules)\//);
  return at === -1 ? frame.url : frame.url.slice(at + 1);
}

function functionOf(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"}  ${fileOf(frame)}:${frame.lineNumber + 1}`;
}

/** Aggregates the samples whose time lies within [fromUs, toUs] (the profile's own clock, µs). */
export function summarizeProfile(profile: CpuProfile, fromUs = -Infinity, toUs = Infinity): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<number, number>();
  const inclusive = new Map<string, number>();
  let windowUs = 0;
  let samples = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs || at > toUs) continue;
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + delta);
    windowUs += delta;
    samples++;
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)!.callFrame;
      if (!PIPELINE_FUNCTIONS.has(frame.functionName) || !/\/(dist|src)\/gateway\//.test(frame.url)) continue;
      const name = functionOf(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + delta);
    }
  }
  const idleUs = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)").reduce((sum, [, us]) => sum + us, 0);
  const busyUs = windowUs - idleUs;
  // WebAssembly frames (undici's llhttp parser, PGlite) count for the JavaScript that called them.
  const partOfNode = (id: number): string => {
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)!.callFrame;
      if (!isWasm(frame)) return n === id ? partOf(frame) : `${partOf(frame)} (wasm)`;
    }
    return partOf(byId.get(id)!.callFrame);
  };
  const group = (key: (frame: CallFrame, id: number) => string): Share[] => {
    const totals = new Map<string, number>();
    for (const [id, us] of self) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === "(idle)") continue;
      const name = key(frame, id);
      totals.set(name, (totals.get(name) ?? 0) + us);
    }
    return shares(totals, busyUs);
  };
  return {
    windowUs,
    busyUs,
    samples,
    byFunction: group(functionOf),
    byFile: group(fileOf),
    byPart: group((_frame, id) => partOfNode(id)),
    inclusive: shares(inclusive, busyUs),
  };
}

function shares(totals: ReadonlyMap<string, number>, busyUs: number): Share[] {
  return [...totals].map(([name, us]) => ({ name, us, share: busyUs > 0 ? us / busyUs : 0 })).sort((a, b) => b.us - a.us);
}
