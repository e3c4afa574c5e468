/**
 * `sluice/client`: ask Sluice's rate-limit service whether a caller may do something now, with a
 * deadline and a failure policy (docs/ratelimit-service.md, "TypeScript client"). Also published
 * alone, with the middlewares, as `@sluice/client` (packages/client), so it imports nothing of the server.
 *
 * @example
 * import { RateLimitClient } from "sluice/client";
 * const limiter = new RateLimitClient({ url: "http://127.0.0.1:8080", token, failurePolicy: "open" });
 * const { allowed, retryAfter } = await limiter.limit({ policy: "emails", identifier: "user-42" });
 */
export { RateLimitClient, RateLimitRequestError, RateLimitServiceError, type FailurePolicy, type RateLimitClientOptions } from "./rateLimitClient.js";
export type { DescriptorEntry, Duration, FailureReason, InlineLimitRequest, LimitRequest, LimitResult, PolicyLimitRequest, RateLimitBatchResult, RateLimitResult, ServiceFailure, UnlimitedResult } from "./results.js";
