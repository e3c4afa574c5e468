/** A connection to the test Redis (REDIS_URL, else the machine's 127.0.0.1:6379) and a fresh key prefix per test. */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

export const TEST_REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

export function testRedisClient(): Redis {
  return new Redis(TEST_REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Keys under this prefix belong to one test alone, so tests never see each other's counters. */
export function uniquePrefix(): string {
  return `sluice-test:${randomUUID()}:`;
}
