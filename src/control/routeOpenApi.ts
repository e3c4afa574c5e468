/**
 * The OpenAPI side of a route declaration (defineRoute.ts): its operation object, with the
 * parameters, request body and answers written from the route's zod schemas, and the problems
 * its auth and input imply. The control plane's sections of /openapi.json (openapi.ts) are made
 * of these.
 *
 * @example
 * openApiPaths(ACCOUNT_ROUTES) // { "/account/api/keys": { get: { operationId: "listOwnKeys", … }, post: … }, … }
 */
import { z } from "zod";
import { SECURITY, SMALL_BODY_LIMIT, UNSAFE_METHODS, type OperationSpec, type ProblemSpec } from "./defineRoute.js";

type Json = Record<string, unknown>;

/** `schema` as an OpenAPI 3.1 schema object (JSON Schema 2020-12, as a client writes it). */
export function openApiSchema(schema: z.ZodType, io: "input" | "output" = "input"): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    // "format" says it (uuid, date-time); zod's long regex beside it only bloats the document.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format !== undefined) delete jsonSchema.pattern;
    },
  }) as Json;
  return rest;
}

/** An OpenAPI response object: a description, maybe headers, and a body per media type. */
export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: Json;
  readonly content?: Readonly<Record<string, { readonly schema: Json }>>;
}

/** An OpenAPI response that is a problem document (`#/components/schemas/Problem`). */
export function problemResponse(description: string, headers?: Json): OpenApiResponse {
  return { description, ...(headers && { headers }), content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } };
}

/** The Retry-After header, as the 429 and 503 responses carry it. */
export const RETRY_AFTER_HEADER: Json = {
  "Retry-After": { description: "Seconds to wait before retrying (at least 1).", schema: { type: "integer", minimum: 1 } },
};

const INVALID = "A field is invalid; `invalidParams` names each.";

/** The problems a route's auth and input imply, by status. */
function impliedProblems(spec: OperationSpec): Record<number, ProblemSpec> {
  const implied: Record<number, ProblemSpec> = {};
  if (spec.params !== undefined || spec.query !== undefined || spec.body !== undefined) implied[400] = INVALID;
  if (spec.auth === "session") implied[401] = "No valid session cookie.";
  if (spec.auth === "admin") {
    implied[401] = "Nobody signed in, and no admin token.";
    implied[403] = "Not an admin, or a cookie-authenticated change from another origin.";
  } else if (spec.auth !== "serviceToken" && UNSAFE_METHODS.has(spec.method)) implied[403] = "The request came from another origin.";
  if (spec.body !== undefined) implied[413] = `The body is larger than ${spec.bodyLimit ?? SMALL_BODY_LIMIT} bytes.`;
  return implied;
}

/** An OpenAPI operation object, typed as far as readers of the document look into it. */
export interface OpenApiOperation {
  readonly operationId: string;
  readonly tags: readonly string[];
  readonly summary: string;
  readonly security: readonly Json[];
  readonly parameters?: readonly Json[];
  readonly requestBody?: { readonly required: boolean; readonly content: Readonly<Record<string, { readonly schema: Json; readonly examples?: Json }>> };
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
  readonly [extension: string]: unknown;
}

/** One operation of the OpenAPI document, from its declaration. */
export function openApiOperation(spec: OperationSpec): OpenApiOperation {
  const params = spec.params === undefined ? undefined : openApiSchema(spec.params);
  const pathParameters = [...spec.url.matchAll(/:(\w+)/g)].map(([, name]) => {
    const schema = (params?.["properties"] as Record<string, Json> | undefined)?.[name!] ?? { type: "string" };
    return parameter(name!, "path", true, schema);
  });
  const query = spec.query === undefined ? undefined : openApiSchema(spec.query);
  const required = new Set((query?.["required"] as string[] | undefined) ?? []);
  const queryParameters = Object.entries((query?.["properties"] as Record<string, Json> | undefined) ?? {})
    .map(([name, schema]) => parameter(name, "query", required.has(name), schema));

  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, success] of Object.entries(spec.responses)) {
    responses[status] = {
      description: success.description,
      ...(success.headers !== undefined && { headers: success.headers }),
      ...(success.schema !== undefined && { content: { "application/json": { schema: openApiSchema(success.schema, "output") } } }),
    };
  }
  for (const [status, problem] of Object.entries({ ...impliedProblems(spec), ...spec.problems })) {
    responses[status] = typeof problem === "string" ? problemResponse(problem) : problemResponse(problem.description, problem.headers);
  }

  return {
    operationId: spec.operationId,
    tags: [...spec.tags],
    summary: spec.summary,
    ...(spec.description !== undefined && { description: spec.description }),
    security: SECURITY[spec.auth],
    ...(pathParameters.length + queryParameters.length > 0 && { parameters: [...pathParameters, ...queryParameters] }),
    ...(spec.body !== undefined && {
      requestBody: {
        required: spec.bodyOptional !== true,
        content: { "application/json": { schema: openApiSchema(spec.body), ...(spec.examples !== undefined && { examples: spec.examples }) } },
      },
    }),
    responses,
  };
}

function parameter(name: string, where: "path" | "query", required: boolean, schema: Json): Json {
  const { description, ...rest } = schema;
  return { name, in: where, required, ...(description !== undefined && { description }), schema: rest };
}

/** The operations as an OpenAPI `paths` object (`:id` written `{id}`). */
export function openApiPaths(routes: readonly OperationSpec[]): Record<string, Record<string, OpenApiOperation>> {
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  for (const spec of routes) {
    const path = spec.url.replace(/:(\w+)/g, "{$1}");
    paths[path] = { ...paths[path], [spec.method.toLowerCase()]: openApiOperation(spec) };
  }
  return paths;
}
