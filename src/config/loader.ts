/**
 * The one way configuration gets in: read the YAML file, validate it against `configSchema`,
 * apply the environment (PORT, HOST). Every problem is reported at once, each with its file,
 * line and column, its path in the document, and what to write instead. Settings that the
 * environment overrides or completes (PORT, HOST, REDIS_URL) are checked here too.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { configSchema, type SluiceConfig } from "./schema.js";

/** The demo configuration shipped with Sluice; used when no file is named. */
export const DEMO_CONFIG_PATH = fileURLToPath(new URL("../../examples/sluice.yaml", import.meta.url));

export interface ConfigProblem {
  /** 1-based; 0 when the problem has no place in the file (a missing file, an environment variable). */
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly code = "SLUICE_ERR_CONFIG";
  constructor(readonly source: string, readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration in ${source}:\n` +
        problems.map((p) => `  ${p.line > 0 ? `${source}:${p.line}:${p.column}` : source}  ${p.path ? `${p.path}: ` : ""}${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface LoadConfigOptions {
  /** Path of the YAML file; SLUICE_CONFIG, then the demo config, when omitted. */
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  readonly config: SluiceConfig;
  readonly source: string;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const source = options.file ?? (env["SLUICE_CONFIG"] || DEMO_CONFIG_PATH);
  let text: string;
  try {
    text = await readFile(source, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (error as Error).message;
    throw new ConfigError(source, [{ line: 0, column: 0, path: "", message: `cannot read the file (${reason})` }]);
  }
  return { config: applyEnvironment(parseConfig(text, source), env), source };
}

/** Parses and validates YAML text; `source` names it in error messages. */
export function parseConfig(text: string, source = "<config>"): SluiceConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => ({
      line: e.linePos?.[0].line ?? 0,
      column: e.linePos?.[0].col ?? 0,
      path: "",
      message: yamlMessage(e.message),
    })));
  }
  const result = configSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(source, result.error.issues.map((issue) => locate(issue, doc, lineCounter)));
  return result.data;
}

/**
 * The first line of a YAML error without the place it names (`… at line 2, column 1:`, which
 * introduced a snippet of the file): the problem's line and column are reported beside it.
 */
function yamlMessage(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "").replace(/:$/, "");
}

function applyEnvironment(config: SluiceConfig, env: NodeJS.ProcessEnv): SluiceConfig {
  const server = { ...config.server };
  if (env["HOST"]) server.host = env["HOST"];
  if (env["PORT"]) {
    const port = Number(env["PORT"]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError("environment", [{ line: 0, column: 0, path: "PORT", message: `"${env["PORT"]}" is not a port number (0–65535)` }]);
    }
    server.port = port;
  }
  if (config.limiter.store === "redis" && !env["REDIS_URL"]) {
    throw new ConfigError("environment", [{ line: 0, column: 0, path: "REDIS_URL", message: 'limiter.store is "redis", so REDIS_URL must name the Redis (e.g. redis://127.0.0.1:6379)' }]);
  }
  return { ...config, server };
}

/** The node of `key` in the map at `path`; undefined when there is none. */
function keyNode(doc: Document, path: readonly (string | number)[], key: string) {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
  return isScalar(pair?.key) ? pair.key : undefined;
}

/** Finds where an issue is in the file: the node at its path, or the nearest ancestor that exists. */
function locate(issue: z.core.$ZodIssue, doc: Document, lineCounter: LineCounter): ConfigProblem {
  let path = issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment));
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    message = `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling against docs/config.md`;
    // At the key itself: a block value starts on a later line than the key that is misspelt.
    const key = keyNode(doc, path, issue.keys[0]!);
    path = [...path, issue.keys[0]!];
    if (key?.range) {
      const { line, col } = lineCounter.linePos(key.range[0]);
      return { line, column: col, path: path.join("."), message };
    }
  } else if (issue.input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_union")) {
    message = `required field is missing${issue.code === "invalid_type" ? ` (${issue.expected} expected)` : ""}`;
  } else if (issue.code === "invalid_key") {
    message = `invalid name "${String(issue.input)}": ${issue.issues[0]?.message ?? issue.message}`;
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { line, column: col, path: path.join("."), message };
    }
  }
  return { line: 1, column: 1, path: path.join("."), message };
}
