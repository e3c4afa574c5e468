/**
 * The gateway's OpenAPI document: each service's own description (fetched from its upstream)
 * re-rooted under /api/{service}, with the API-key scheme and the gateway's problem responses
 * added to every operation, plus the gateway's own endpoints. /docs renders it; /openapi.json
 * serves it.
 */
import type { RouteTable } from "../gateway/routeTable.js";
import { API_KEY_HEADER } from "../config/headerNames.js";
import { problems } from "../problems/catalogue.js";
import { openApiPaths } from "./routeOpenApi.js";
import { STATUS_ROUTES } from "./statusRoutes.js";

type Json = Record<string, unknown>;
type UpstreamDoc = { paths?: Record<string, Json>; components?: { schemas?: Record<string, Json> } };

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];
/** Upstream endpoints that describe the upstream itself, not its API. */
const HIDDEN_PATHS = new Set(["/openapi.json", "/healthz"]);

const problemResponse = (description: string, headers?: Json) => ({
  description,
  ...(headers && { headers }),
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

const rateLimitHeaders = {
  "RateLimit": { description: 'Remaining units of the limit closest to exhaustion, e.g. `"per-client";r=4;t=30`.', schema: { type: "string" } },
  "RateLimit-Policy": { description: 'The limits that apply, e.g. `"per-client";q=5;w=30`.', schema: { type: "string" } },
};

const gatewayResponses = {
  "401": { $ref: "#/components/responses/Unauthorized" },
  "404": { $ref: "#/components/responses/NotFound" },
  "429": { $ref: "#/components/responses/RateLimited" },
  "502": { $ref: "#/components/responses/UpstreamUnavailable" },
  "504": { $ref: "#/components/responses/UpstreamTimeout" },
};

/** Fetches one upstream's OpenAPI document, or undefined when it has none or does not answer. */
export async function fetchUpstreamDoc(table: RouteTable, serviceName: string, timeoutMs = 2_000): Promise<UpstreamDoc | undefined> {
  const service = table.get(serviceName);
  if (service === undefined || service.config.openapi === false) return undefined;
  try {
    const { statusCode, body } = await service.pool.request({
      path: service.basePath + service.config.openapi,
      method: "GET",
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (statusCode !== 200) {
      await body.dump();
      return undefined;
    }
    return (await body.json()) as UpstreamDoc;
  } catch {
    return undefined;
  }
}

/** Endpoints of the control plane's own that join the document (the account routes, the admin API). */
export interface OpenApiSection {
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, Json>>;
  readonly securitySchemes: Readonly<Record<string, Json>>;
}

export function buildOpenApi(table: RouteTable, upstreamDocs: ReadonlyMap<string, UpstreamDoc | undefined>, sections: readonly OpenApiSection[] = []): Json {
  const paths: Record<string, Json> = {
    ...openApiPaths(STATUS_ROUTES),
  };
  const schemas: Record<string, Json> = {
    Problem: {
      type: "object",
      description: "An RFC 9457 problem document. `code` is stable; `detail` is for people.",
      required: ["type", "title", "status", "code"],
      properties: {
        type: { type: "string", example: `/problems/${problems.rateLimited.slug}` },
        title: { type: "string" },
        status: { type: "integer" },
        detail: { type: "string" },
        code: { type: "string", example: problems.rateLimited.code },
      },
    },
  };
  const tags = [{ name: "gateway", description: "The gateway's own endpoints." }];
  // Sluice's own operations keep their ids; a service's give way to them.
  const operationIds = new OperationIds([paths, ...sections.map((section) => section.paths)]);

  for (const [name, service] of table) {
    tags.push({ name, description: service.config.description ?? `Service "${name}", proxied to its upstream.` });
    const doc = upstreamDocs.get(name);
    const rewrite = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"#/components/schemas/${name}.`)) as Json;
    for (const [schemaName, schema] of Object.entries(doc?.components?.schemas ?? {})) schemas[`${name}.${schemaName}`] = rewrite(schema);

    const upstreamPaths = Object.entries(doc?.paths ?? {}).filter(([path]) => !HIDDEN_PATHS.has(path));
    if (upstreamPaths.length === 0) {
      paths[`/api/${name}/{path}`] = { get: gatewayOperation(name, { operationId: operationIds.claim(`${camelCase(name)}AnyPath`), summary: `Any path of service "${name}"`, parameters: [{ name: "path", in: "path", required: true, schema: { type: "string" } }], responses: { "200": { description: "The upstream's response." } } }) };
      continue;
    }
    for (const [path, item] of upstreamPaths) {
      const rewritten = rewrite(item);
      for (const method of METHODS) {
        const operation = rewritten[method] as Json | undefined;
        if (operation === undefined) continue;
        const own = typeof operation["operationId"] === "string" ? operation["operationId"] : derivedOperationId(method, path);
        rewritten[method] = gatewayOperation(name, { ...operation, operationId: operationIds.claim(camelCase(name) + capitalized(own)) });
      }
      paths[`/api/${name}${path}`] = rewritten;
    }
  }

  const securitySchemes: Record<string, Json> = { apiKey: { type: "apiKey", in: "header", name: API_KEY_HEADER } };
  for (const section of sections) {
    tags.push(...section.tags);
    Object.assign(paths, section.paths);
    Object.assign(securitySchemes, section.securitySchemes);
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "Sluice API gateway",
      version: "0.1.0",
      description: `Every service is reached at /api/{service}/{path} with an API key in the \`${API_KEY_HEADER}\` header. ` +
        "Click **Authorize**, enter a key (the demo's is `secret-key`), then **Try it out** on any endpoint. " +
        "Errors are RFC 9457 problem documents; responses carry the IETF `RateLimit` and `RateLimit-Policy` headers.",
    },
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }],
    tags,
    paths,
    components: {
      securitySchemes,
      schemas,
      responses: {
        Unauthorized: problemResponse("Missing or invalid API key."),
        NotFound: problemResponse("No such service, route or resource."),
        RateLimited: problemResponse("A rate limit is exhausted.", {
          "Retry-After": { description: "Seconds to wait before retrying (at least 1).", schema: { type: "integer", minimum: 1 } },
          ...rateLimitHeaders,
        }),
        UpstreamUnavailable: problemResponse("The upstream could not be reached."),
        UpstreamTimeout: problemResponse("The upstream did not answer in time."),
      },
    },
  };
}

/**
 * Operation ids, unique across the document: a service's operations are named after the service
 * (`random` + the upstream's own id, or one made of the method and path: `randomGetNumber`), so
 * two services with the same operation keep apart; a repeat gets a number.
 */
class OperationIds {
  readonly #taken = new Set<string>();

  constructor(reserved: readonly Readonly<Record<string, Json>>[]) {
    for (const paths of reserved) {
      for (const item of Object.values(paths)) {
        for (const operation of Object.values(item)) {
          const id = (operation as Json | undefined)?.["operationId"];
          if (typeof id === "string") this.#taken.add(id);
        }
      }
    }
  }

  claim(wanted: string): string {
    let id = wanted;
    for (let n = 2; this.#taken.has(id); n++) id = `${wanted}${n}`;
    this.#taken.add(id);
    return id;
  }
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const camelCase = (text: string) => text.split(/[^A-Za-z0-9]+/).filter(Boolean).map((word, i) => (i === 0 ? word : capitalized(word))).join("");

/** `get /users/{id}` → `getUsersById`. */
function derivedOperationId(method: string, path: string): string {
  const words = path.split("/").filter(Boolean).map((segment) => {
    const parameter = /^\{(.+)\}$/.exec(segment);
    return parameter === null ? capitalized(camelCase(segment)) : `By${capitalized(camelCase(parameter[1]!))}`;
  });
  return method + words.join("");
}

function gatewayOperation(service: string, operation: Json): Json {
  const responses = { ...(operation["responses"] as Json | undefined) };
  for (const [status, ref] of Object.entries(gatewayResponses)) responses[status] ??= ref;
  return { ...operation, tags: [service], security: [{ apiKey: [] }], responses };
}
