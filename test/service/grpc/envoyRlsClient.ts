/**
 * A gRPC client of Envoy's rate-limit service, as Envoy calls it: built with @grpc/grpc-js from
 * our proto files, sending `domain`, `descriptors` of key/value entries and `hits_addend`, and
 * metadata when given (Envoy's `initial_metadata`, e.g. a service token as `authorization`).
 */
import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { PROTO_LOADER_OPTIONS, RLS_PROTO } from "../../../src/service/grpc/rateLimitGrpcServer.js";
import type { RateLimitResponseMessage } from "../../../src/service/grpc/shouldRateLimit.js";

export interface RlsDescriptor {
  readonly entries: readonly { readonly key: string; readonly value: string }[];
  /** Envoy's RateLimitOverride; `unit` by name, as proto-loader takes enums. */
  readonly limit?: { readonly requests_per_unit?: number; readonly unit?: string };
  readonly hits_addend?: { readonly value: number };
}

export interface RlsRequest {
  readonly domain: string;
  readonly descriptors: readonly RlsDescriptor[];
  readonly hits_addend?: number;
}

/** The response as proto-loader decodes it on the client side (fields left unset are absent). */
export interface RlsResponse {
  readonly overall_code: RateLimitResponseMessage["overall_code"];
  readonly statuses: readonly {
    readonly code: string;
    readonly current_limit?: { readonly requests_per_unit: number; readonly unit: string; readonly name: string };
    readonly limit_remaining?: number;
    readonly duration_until_reset?: { readonly seconds?: number; readonly nanos?: number };
  }[];
}

export interface EnvoyRlsClient {
  shouldRateLimit(request: RlsRequest, metadata?: Readonly<Record<string, string>>): Promise<RlsResponse>;
  close(): void;
}

type UnaryMethod = (request: RlsRequest, metadata: Metadata, callback: (error: ServiceError | null, response: RlsResponse) => void) => void;

export function envoyRlsClient(address: string): EnvoyRlsClient {
  const loaded = loadPackageDefinition(loadSync(RLS_PROTO, PROTO_LOADER_OPTIONS)) as unknown as {
    envoy: { service: { ratelimit: { v3: { RateLimitService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & { ShouldRateLimit: UnaryMethod } } } } };
  };
  const client = new loaded.envoy.service.ratelimit.v3.RateLimitService(address, credentials.createInsecure());
  return {
    shouldRateLimit: (request, metadata = {}) => new Promise((resolve, reject) => {
      const sent = new Metadata();
      for (const [key, value] of Object.entries(metadata)) sent.set(key, value);
      client.ShouldRateLimit(request, sent, (error, response) => (error ? reject(error) : resolve(response)));
    }),
    close: () => client.close(),
  };
}
