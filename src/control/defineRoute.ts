/**
 * The one way to write a control-plane endpoint. A route is a declaration: method, URL, a stable
 * `operationId`, who may call it, the zod schemas of its params, query and body, the answers it
 * gives, and a handler. From that one entry come
 *
 * - the Fastify route: the caller checked in an onRequest hook (before any body is read:
 *   requestBodies.ts), the body limit, and validation by the schemas (a Fastify validator
 *   compiler running zod; a 400 `bad-request` whose `invalidParams` names every bad field);
 * - the handler's types: params from the URL (or its schema), query and body as the schemas
 *   output them, and an answer typed by the declared responses;
 * - the OpenAPI operation (routeOpenApi.ts `openApiPaths`), so /openapi.json cannot drift from
 *   what is served.
 *
 * A handler answers `{ status, body }`, or throws: a ProblemError (problems/problemError.ts) for a
 * refusal, a domain error for the map in problems/domainErrors.ts to answer, anything else for
 * a logged 500. It may also answer through `reply` itself (cookies, a stream) and return it.
 *
 * @example
 * const route = routeFor<{ accounts: Accounts }>();
 * export const planRoutes = [
 *   route({
 *     method: "GET", url: "/admin/api/plans/:name", operationId: "getPlan", auth: "admin",
 *     summary: "One plan", tags: ["admin: plans"],
 *     responses: { 200: { description: "The plan.", schema: planView } },
 *     problems: { 404: "No plan by this name." },
 *     handle: async ({ deps, params }) => ({ status: 200, body: viewPlan(await existingPlan(deps, params.name)) }),
 *   }),
 * ];
 * await registerRoutes(app, planRoutes, deps);
 * const paths = openApiPaths(planRoutes); // { "/admin/api/plans/{name}": { get: { operationId: "getPlan", … } } }
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler, onRequestAsyncHookHandler } from "fastify";
import type { z } from "zod";
import type { Accounts } from "../accounts/accounts.js";
import { invalidParams } from "../config/invalidParams.js";
import { problems } from "../problems/catalogue.js";
import { ProblemError } from "../problems/problemError.js";
import { takesBody } from "./requestBodies.js";
import { isSameOrigin, requireAdmin, userRequired } from "./sessionAuth.js";

type Json = Record<string, unknown>;

/** Largest JSON body a route reads unless it says otherwise (Fastify answers 413 past it). */
export const SMALL_BODY_LIMIT = 16 * 1024;

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Who may call:
 * - `none`: anyone (a change must still come from Sluice's own pages: 403 cross-site);
 * - `optionalSession`: as `none`, and a session cookie is read when there is one;
 * - `session`: a signed-in user (401 without a session; 403 for a change from another origin);
 * - `admin`: the operator's token or an admin's session (403 for other users);
 * - `serviceToken`: a rate-limit service token; described only, the service checks it itself.
 */
export type Auth = "none" | "optionalSession" | "session" | "admin" | "serviceToken";

export const SECURITY: Readonly<Record<Auth, readonly Json[]>> = {
  none: [],
  optionalSession: [{ session: [] }, {}],
  session: [{ session: [] }],
  admin: [{ adminToken: [] }, { session: [] }],
  serviceToken: [{ serviceToken: [] }],
};

/** A successful answer: its description, and the JSON schema of its body when it has one. */
export interface SuccessSpec {
  readonly description: string;
  readonly schema?: z.ZodType;
  readonly headers?: Json;
}

/** A problem answer in the document: what it means here, and its headers (Retry-After). */
export type ProblemSpec = string | { readonly description: string; readonly headers?: Json };

/** The names of `:params` in a Fastify URL. */
type ParamNames<U extends string> = U extends `${string}:${infer P}/${infer Rest}` ? P | ParamNames<`/${Rest}`> : U extends `${string}:${infer P}` ? P : never;

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The answers a handler may give: one per declared success status, its body typed by its schema. */
export type Answer<R> = {
  [K in keyof R & number]: R[K] extends { readonly schema: infer S extends z.ZodType }
    ? { readonly status: K; readonly body: z.input<S> }
    : { readonly status: K; readonly body?: undefined }
}[keyof R & number];

/** Answers, their statuses kept literal so that `Answer<R>` can check them. */
export const ok = <B>(body: B) => ({ status: 200 as const, body });
export const created = <B>(body: B) => ({ status: 201 as const, body });
export const noContent = () => ({ status: 204 as const });

/** What the documentation needs of an operation. */
export interface OperationSpec<U extends string = string, R = Readonly<Record<number, SuccessSpec>>> {
  readonly method: Method;
  /** The full path, Fastify style (`/admin/api/users/:id`). */
  readonly url: U;
  /** Stable and unique across the document: generated clients name their functions by it. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly auth: Auth;
  /** Each path parameter; by default a string, as the URL names it. */
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** The body may be left out (read as `{}`); documented as not required. */
  readonly bodyOptional?: boolean;
  /** Bytes the body may have (413 past it); default SMALL_BODY_LIMIT. */
  readonly bodyLimit?: number;
  /** Named request-body examples, shown by /docs. */
  readonly examples?: Json;
  /** The successful answers, by status. */
  readonly responses: R;
  /**
   * Problems by status, besides the ones the route's auth and input imply (400 and 413 for a body,
   * 401 and 403 for a caller); a status given here replaces the implied description.
   */
  readonly problems?: Readonly<Record<number, ProblemSpec>>;
}

/** What a handler is given: the dependencies, the validated input, and Fastify's request and reply. */
export interface RouteInput<D, U extends string, P, Q, B> {
  readonly deps: D;
  readonly params: P extends z.ZodType ? z.output<P> : Readonly<Record<ParamNames<U>, string>>;
  readonly query: Output<Q>;
  readonly body: Output<B>;
  /** The body as it came, before the schema transformed it (a plan is stored as written). */
  readonly rawBody: unknown;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

export interface RouteSpec<D, U extends string, P, Q, B, R> extends OperationSpec<U, R> {
  readonly params?: P & z.ZodType;
  readonly query?: Q & z.ZodType;
  readonly body?: B & z.ZodType;
  handle(input: RouteInput<D, U, P, Q, B>): Promise<Answer<R> | FastifyReply> | Answer<R> | FastifyReply;
}

/** What a route's dependencies must hold to check a `session` or `admin` caller (checked at registration). */
export interface CallerDeps {
  readonly accounts?: Accounts | undefined;
  /** SLUICE_ADMIN_TOKEN: accepted as a Bearer token by `admin` routes. */
  readonly adminToken?: string | undefined;
}

/** A declared route, its types erased, as route tables hold them. */
export interface Route<D> extends OperationSpec {
  handle(input: RouteInput<D, string, unknown, unknown, unknown>): Promise<unknown>;
}

/**
 * The route declarer for handlers that take dependencies `D`: `routeFor<D>()({ … })`. (Two calls,
 * so TypeScript infers the schemas' types while `D` is given.)
 */
export function routeFor<D extends object>() {
  return function route<U extends string, R extends Readonly<Record<number, SuccessSpec>>, P = undefined, Q = undefined, B = undefined>(
    spec: RouteSpec<D, U, P, Q, B, R>,
  ): Route<D> {
    return { ...spec, handle: async (input) => spec.handle(input) };
  };
}

export const UNSAFE_METHODS: ReadonlySet<Method> = new Set<Method>(["POST", "PUT", "PATCH", "DELETE"]);

/** Each request's body as it came, kept before validation replaces it with the schema's output. */
const rawBodies = new WeakMap<FastifyRequest, unknown>();

/** Runs zod on one part of the request; its refusal reaches the error handler as a 400 ProblemError. */
const zodValidator: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const zodSchema = schema as z.ZodType;
  return function validateByZod(data: unknown) {
    const value = httpPart === "body" && data == null ? {} : data;
    const result = zodSchema.safeParse(value);
    if (result.success) return { value: result.data };
    const where = httpPart === "body" ? "request body" : httpPart === "querystring" ? "query" : `${httpPart ?? "request"}`;
    return { error: ProblemError.invalid(invalidParams(result.error), where) };
  };
};

/** The onRequest hook that checks the caller, or undefined when anyone may call. */
function callerCheck(spec: OperationSpec, deps: CallerDeps): onRequestAsyncHookHandler | undefined {
  const needsAccounts = () => {
    if (deps.accounts === undefined) throw new Error(`${spec.method} ${spec.url} (${spec.auth}) is registered without accounts`);
    return deps.accounts;
  };
  switch (spec.auth) {
    case "none":
    case "optionalSession":
      if (!UNSAFE_METHODS.has(spec.method)) return undefined;
      return function requireSameOrigin(request) {
        return isSameOrigin(request) ? Promise.resolve() : Promise.reject(new ProblemError(problems.crossSite, "This request must come from Sluice's own pages."));
      };
    case "session":
      return userRequired(needsAccounts());
    case "admin": {
      const accounts = needsAccounts();
      return async function requireAdminCaller(request, reply) {
        if ((await requireAdmin(request, reply, accounts, deps.adminToken)) === undefined) return reply;
        return undefined;
      };
    }
    case "serviceToken":
      throw new Error(`${spec.method} ${spec.url}: service-token routes are served by the rate-limit service, not registered here`);
  }
}

/** Registers every route of `routes` on `app`, its handler given `deps`. */
export function registerRoutes<D extends object>(app: FastifyInstance, routes: readonly Route<D>[], deps: D): void {
  for (const spec of routes) {
    const onRequest = callerCheck(spec, deps);
    const schema: Record<string, unknown> = {};
    if (spec.params !== undefined) schema["params"] = spec.params;
    if (spec.query !== undefined) schema["querystring"] = spec.query;
    if (spec.body !== undefined) schema["body"] = spec.body;
    app.route({
      method: spec.method,
      url: spec.url,
      ...(onRequest !== undefined && { onRequest }),
      ...(spec.body !== undefined && takesBody(spec.bodyLimit ?? SMALL_BODY_LIMIT)),
      ...(Object.keys(schema).length > 0 && { schema, validatorCompiler: zodValidator }),
      ...(spec.body !== undefined && {
        preValidation: function keepRawBody(request: FastifyRequest, _reply: FastifyReply, done: () => void) {
          rawBodies.set(request, request.body ?? {});
          done();
        },
      }),
      handler: async function controlRoute(request, reply) {
        const input = { deps, params: request.params as never, query: request.query as never, body: request.body as never, rawBody: rawBodies.get(request), request, reply };
        const answer = await spec.handle(input);
        if (answer === reply) return reply;
        const { status, body } = answer as { status: number; body?: unknown };
        reply.code(status).header("cache-control", "no-store");
        return body === undefined ? reply.send() : reply.send(body);
      },
    });
  }
}
