/**
 * The edge of the control plane's JSON routes: one zod schema per request body validates it
 * (`parseBody`, a 400 `bad-request` problem naming every bad field in `invalidParams`) and
 * describes it in the OpenAPI document (`jsonRequestBody`), so the two cannot disagree.
 * Used by the auth routes, a user's own key routes and the admin API.
 *
 * @example
 * const body = await parseBody(loginBody, request, reply);
 * if (body === undefined) return reply; // answered 400
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { invalidParams, type InvalidParam } from "../config/invalidParams.js";
import { problems } from "../problems/catalogue.js";
import { replyProblem } from "../problems/fastifyProblems.js";

/** Largest JSON body the account and auth routes read (Fastify answers 413 past it). */
export const SMALL_BODY_LIMIT = 16 * 1024;


/** Answers 400 naming `params` (the detail names them too, for people). */
export function replyInvalid(reply: FastifyReply, params: readonly InvalidParam[]): FastifyReply {
  const detail = params.map((p) => `${p.name || "(body)"}: ${p.reason}`).join("; ");
  return replyProblem(reply, problems.badRequest, `Invalid request body: ${detail}.`, { invalidParams: params });
}

/**
 * The body as `schema` reads it, or undefined after answering 400. A missing body reads as `{}`,
 * so a route whose fields are all optional accepts an empty POST.
 */
export async function parseBody<S extends z.ZodType>(schema: S, request: FastifyRequest, reply: FastifyReply): Promise<z.output<S> | undefined> {
  const parsed = await schema.safeParseAsync(request.body ?? {});
  if (parsed.success) return parsed.data;
  await replyInvalid(reply, invalidParams(parsed.error));
  return undefined;
}

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
  readonly content: Readonly<Record<string, { readonly schema: Json }>>;
}

/** An OpenAPI `requestBody` of JSON read by `schema`. */
export function jsonRequestBody(schema: z.ZodType, required = true): { readonly required: boolean; readonly content: { readonly "application/json": { readonly schema: Json } } } {
  return { required, content: { "application/json": { schema: openApiSchema(schema) } } };
}

/** An OpenAPI response whose body is a JSON document read by `schema`. */
export function jsonResponse(description: string, schema: z.ZodType, headers?: Json): OpenApiResponse {
  return { description, ...(headers && { headers }), content: { "application/json": { schema: openApiSchema(schema, "output") } } };
}

/** An OpenAPI response that is a problem document (`#/components/schemas/Problem`). */
export function problemResponse(description: string, headers?: Json): OpenApiResponse {
  return { description, ...(headers && { headers }), content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } };
}

/** The Retry-After header, as the 429 and 503 responses carry it. */
export const RETRY_AFTER_HEADER: Json = {
  "Retry-After": { description: "Seconds to wait before retrying (at least 1).", schema: { type: "integer", minimum: 1 } },
};
