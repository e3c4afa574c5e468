/**
 * The TypeScript client of Sluice's rate-limit service (docs/ratelimit-service.md): asks
 * `POST /v1/ratelimit` whether a caller may do something now, over a kept-alive undici pool.
 *
 * Error handling, the point of this module:
 * - Every call has a deadline (`timeoutMs`, default 100 ms): a rate limit must never hold up the
 *   request it guards for long.
 * - When the service cannot answer by then, cannot be reached, answers 5xx or answers something
 *   that is not a decision, the failure policy decides instead: `open` (default) admits, `closed`
 *   refuses. The result carries `failure` so the caller can tell a fallback from a decision, and
 *   `onFailure` hears of each one (for a log line or a metric).
 * - A 4xx (a malformed check, a wrong token, an unknown policy) is the caller's own mistake and
 *   throws a `RateLimitRequestError`: answering it with the failure policy would switch the limit
 *   off (or every request away) for good without anyone noticing.
 * - `reset` has no decision to fall back to, so it throws on every failure.
 *
 * @example
 * const limiter = new RateLimitClient({ url: "http://127.0.0.1:8080", token: process.env.SLUICE_TOKEN! });
 * const result = await limiter.limit({ identifier: "user-42", limit: 100, duration: "60s" });
 * if (!result.allowed) return tooMany(result.retryAfter);
 */
import { Pool } from "undici";
import { failureResult, isBatchResult, isResult, type FailureReason, type InlineLimitRequest, type LimitRequest, type LimitResult, type RateLimitBatchResult, type RateLimitResult, type ServiceFailure } from "./results.js";

export type FailurePolicy = "open" | "closed";

export interface RateLimitClientOptions {
  /** Base URL of Sluice, e.g. "http://127.0.0.1:8080" (a path prefix is kept: "https://sluice.internal/edge"). */
  readonly url: string;
  /** A service token from the admin API, or SLUICE_ADMIN_TOKEN for local use; sent as a Bearer token. */
  readonly token: string;
  /** Longest wait for an answer, in ms, connecting included (default 100). */
  readonly timeoutMs?: number;
  /** What a call answers when the service does not: admit (`open`, default) or refuse (`closed`). */
  readonly failurePolicy?: FailurePolicy;
  /** Told of every call the failure policy answered, with the underlying error. */
  readonly onFailure?: (failure: ServiceFailure, error: unknown) => void;
  /** Most connections kept open to the service (default 16). */
  readonly connections?: number;
}

/**
 * The service refused the request itself (4xx): a bad check, a wrong token, an unknown policy.
 * Its status is `serviceStatus`, not `status`: frameworks answer an error's `status` to their own
 * client, who did nothing wrong; a misconfigured limit is the application's 500.
 */
export class RateLimitRequestError extends Error {
  override readonly name = "RateLimitRequestError";
  constructor(
    readonly serviceStatus: number,
    /** The service's problem document (RFC 9457), when it sent one. */
    readonly problem: Readonly<Record<string, unknown>> | undefined,
  ) {
    const detail = typeof problem?.["detail"] === "string" ? problem["detail"] : `status ${serviceStatus}`;
    super(`the rate-limit service refused the request: ${detail}`);
  }
}

/** The service failed to answer; callers of `limit`/`peek` see it only through `onFailure`. */
export class RateLimitServiceError extends Error {
  override readonly name = "RateLimitServiceError";
  constructor(readonly reason: FailureReason, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const DECIDE_PATH = "/v1/ratelimit";
const RESET_PATH = "/v1/ratelimit/reset";
const DEFAULT_TIMEOUT_MS = 100;
const DEFAULT_CONNECTIONS = 16;
/** Longest answer read; a decision is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

export class RateLimitClient {
  readonly #pool: Pool;
  readonly #basePath: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #policy: FailurePolicy;
  readonly #onFailure: RateLimitClientOptions["onFailure"];

  constructor(options: RateLimitClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`url must be http(s), not ${url.protocol}`);
    if (options.token === "") throw new TypeError("token must not be empty");
    this.#pool = new Pool(url.origin, { connections: options.connections ?? DEFAULT_CONNECTIONS });
    this.#basePath = url.pathname.replace(/\/+$/, "");
    this.#headers = { authorization: `Bearer ${options.token}`, "content-type": "application/json", accept: "application/json" };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#policy = options.failurePolicy ?? "open";
    this.#onFailure = options.onFailure;
  }

  /** Takes `cost` units (default 1) if the limit has them; a denial is a result, not an error. */
  limit(request: InlineLimitRequest): Promise<LimitResult>;
  /** A named policy's rule may have no limit: then the result is `{ allowed: true, unlimited: true }`. */
  limit(request: LimitRequest): Promise<RateLimitResult>;
  async limit(request: LimitRequest): Promise<RateLimitResult> {
    try {
      const answer = await this.#post(DECIDE_PATH, request);
      if (!isResult(answer)) throw new RateLimitServiceError("bad-answer", "the rate-limit service's answer is not a decision");
      return answer;
    } catch (error) {
      return this.#fallback(request, error);
    }
  }

  /** Several limits at once, all or nothing: consumed only if every one admits (at most 20). */
  async limitAll(requests: readonly LimitRequest[]): Promise<RateLimitBatchResult> {
    try {
      const answer = await this.#post(DECIDE_PATH, { checks: requests });
      if (!isBatchResult(answer)) throw new RateLimitServiceError("bad-answer", "the rate-limit service's answer is not a set of decisions");
      return answer;
    } catch (error) {
      // onFailure hears of the failed call once, not once per check.
      const checks = requests.map((r, i) => this.#fallback(r, error, i > 0));
      return { ...checks[0]!, allowed: checks.every((c) => c.allowed), checks };
    }
  }

  /** The limit as it stands, taking nothing from it (a check of cost 0). */
  peek(request: InlineLimitRequest): Promise<LimitResult>;
  peek(request: LimitRequest): Promise<RateLimitResult>;
  async peek(request: LimitRequest): Promise<RateLimitResult> {
    return this.limit({ ...request, cost: 0 });
  }

  /** Forgets the counter of this check (needs a token with the `reset` right, or the admin token). */
  async reset(request: LimitRequest): Promise<void> {
    await this.#post(RESET_PATH, request);
  }

  /** Closes the connections; calls after this reject. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** The failure policy's result, after telling `onFailure`; a RateLimitRequestError is rethrown. */
  #fallback(request: LimitRequest, error: unknown, alreadyReported = false): LimitResult {
    if (error instanceof RateLimitRequestError) throw error;
    const failure: ServiceFailure = {
      policy: this.#policy,
      reason: error instanceof RateLimitServiceError ? error.reason : "unreachable",
      message: error instanceof Error ? error.message : String(error),
    };
    if (!alreadyReported) this.#onFailure?.(failure, error);
    return failureResult(request, failure, Date.now());
  }

  /** POSTs `body`, returns the parsed 2xx answer (undefined when empty); throws the errors above. */
  async #post(path: string, body: unknown): Promise<unknown> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      const response = await this.#pool.request({ method: "POST", path: this.#basePath + path, headers: this.#headers, body: JSON.stringify(body), signal });
      const text = await readCapped(response.body, MAX_ANSWER_BYTES);
      if (response.statusCode >= 400 && response.statusCode < 500) throw new RateLimitRequestError(response.statusCode, parseObject(text));
      if (response.statusCode >= 300) throw new RateLimitServiceError("service-error", `the rate-limit service answered ${response.statusCode}`);
      if (text === "") return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new RateLimitServiceError("bad-answer", "the rate-limit service's answer is not JSON", { cause: error });
      }
    } catch (error) {
      if (error instanceof RateLimitRequestError || error instanceof RateLimitServiceError) throw error;
      if (signal.aborted) throw new RateLimitServiceError("timeout", `the rate-limit service did not answer within ${this.#timeoutMs} ms`, { cause: error });
      throw new RateLimitServiceError("unreachable", `the rate-limit service could not be reached: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new RateLimitServiceError("bad-answer", `the rate-limit service's answer is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
