/**
 * Stage 4, route: `/api/{service}/{path}` → the service's upstream, and the route within it.
 * Routing decides on the normalized path (../requestPath.ts) and exactly that path is forwarded;
 * a path that could mean something else upstream than here (dot segments, encoded slashes or
 * dots, backslashes, control characters) is refused, so the path that was authorized is the path
 * forwarded. Routes are matched without the segments' `;` parameters (`/report;x` is `/report`'s
 * route, as servers that drop them will read it), which are still forwarded. The query string
 * passes untouched. A key limited to some services (scopes) gets a 403 naming its own scopes for
 * any other name, before the name is looked up: the same answer whether the service exists or
 * not, so it cannot learn which services exist, yet its holder learns why it was refused. A body
 * declared larger than the route accepts (its own maxBodySize, else its service's, else the
 * server's) is refused here, once the route is known and before a byte of the body is read; a
 * chunked body is counted as it streams (../requestBody.ts).
 */
import { problems } from "../../problems/catalogue.js";
import type { Rejection, Stage } from "../exchange.js";
import { bodyTooLarge } from "../requestBody.js";
import { normalizePath, routingPath } from "../requestPath.js";
import { matchRoute, type RouteTable } from "../routeTable.js";

export const API_PREFIX = "/api/";

const badPath: Rejection = { kind: problems.badPath, detail: "The path contains dot segments, encoded separators, or characters a path may not hold." };

function outOfScope(scopes: readonly string[]): Rejection {
  return { kind: problems.keyOutOfScope, detail: `This API key may call only ${scopes.map((s) => `"${s}"`).join(", ")}; use a key made for this service.` };
}

/** `maxBodySize` (server.maxBodySize) applies to routes and services that set none of their own; no limit when omitted. */
export function route(table: RouteTable, maxBodySize = Infinity): Stage {
  return function route(exchange) {
    const url = exchange.req.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = normalizePath(queryAt === -1 ? url : url.slice(0, queryAt));
    if (path === undefined) return badPath;

    const nameEnd = path.indexOf("/", API_PREFIX.length);
    const name = path.slice(API_PREFIX.length, nameEnd === -1 ? undefined : nameEnd);
    const scopes = exchange.consumer?.scopes;
    if (scopes !== undefined && !scopes.includes(name)) return outOfScope(scopes);
    const service = table.get(name);
    if (service === undefined) {
      return { kind: problems.serviceNotFound, detail: name ? `There is no service named "${name}".` : "The path names no service: use /api/{service}/{path}." };
    }
    exchange.service = service; // set before the route is matched, so a 404 or 405 is counted under its service
    const rest = nameEnd === -1 ? "/" : path.slice(nameEnd);
    const method = exchange.req.method ?? "GET";
    const match = matchRoute(service, routingPath(rest), method);
    if (match.route === undefined) {
      if (match.allowed.length === 0) return { kind: problems.routeNotFound, detail: `Service "${name}" has no route for ${rest}.` };
      return { kind: problems.methodNotAllowed, detail: `${rest} does not accept ${method}.`, headers: { allow: match.allowed.join(", ") } };
    }
    exchange.route = match.route;
    exchange.params = match.params;
    const bodyLimit = match.route.maxBodySize ?? maxBodySize;
    const declared = exchange.req.headers["content-length"];
    if (declared !== undefined && Number(declared) > bodyLimit) return bodyTooLarge(bodyLimit);
    exchange.maxBodySize = bodyLimit;
    exchange.upstreamPath = service.basePath + rest + (queryAt === -1 ? "" : url.slice(queryAt));
    return undefined;
  };
}
