/**
 * Stage 3, route: `/api/{service}/{path}` → the service's upstream, and the route within it.
 * Paths that could mean something else upstream than here (dot segments, encoded slashes or
 * dots, backslashes, NUL) are refused, so the path that was authorized is the path forwarded.
 * A key limited to some services (scopes) gets the invalid-key 401 for any other name, before
 * the name is looked up, so it cannot learn which services exist.
 */
import { problems } from "../../problems/catalogue.js";
import type { Rejection, Stage } from "../exchange.js";
import { matchRoute, type RouteTable } from "../routeTable.js";
import { invalidKey } from "./authenticate.js";

export const API_PREFIX = "/api/";

const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:[/;]|$)/;
const ENCODED_TROUBLE = /%(?:2e|2f|5c|00|25)/i;
const badPath: Rejection = { kind: problems.badPath, detail: "The path contains dot segments, encoded separators or control characters." };

export function route(table: RouteTable): Stage {
  return function route(exchange) {
    const url = exchange.req.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    if (isUnsafePath(path)) return badPath;

    const nameEnd = path.indexOf("/", API_PREFIX.length);
    const name = path.slice(API_PREFIX.length, nameEnd === -1 ? undefined : nameEnd);
    const scopes = exchange.consumer?.scopes;
    if (scopes !== undefined && !scopes.includes(name)) return invalidKey;
    const service = table.get(name);
    if (service === undefined) {
      return { kind: problems.serviceNotFound, detail: name ? `There is no service named "${name}".` : "The path names no service: use /api/{service}/{path}." };
    }
    const rest = nameEnd === -1 ? "/" : path.slice(nameEnd);
    const method = exchange.req.method ?? "GET";
    const match = matchRoute(service, rest, method);
    if (match.route === undefined) {
      if (match.allowed.length === 0) return { kind: problems.routeNotFound, detail: `Service "${name}" has no route for ${rest}.` };
      return { kind: problems.methodNotAllowed, detail: `${rest} does not accept ${method}.`, headers: { allow: match.allowed.join(", ") } };
    }
    exchange.service = service;
    exchange.route = match.route;
    exchange.params = match.params;
    exchange.upstreamPath = service.basePath + rest + (queryAt === -1 ? "" : url.slice(queryAt));
    return undefined;
  };
}

export function isUnsafePath(path: string): boolean {
  return path.includes("\\") || path.includes("\0") || DOT_SEGMENT.test(path) || (path.includes("%") && ENCODED_TROUBLE.test(path));
}
