/**
 * Which `Host` values Sluice answers (config: server.publicHosts); any other gets 421 before it
 * reaches the gateway, the rate-limit API or the control plane.
 *
 * Why: a web page can point a name it owns at 127.0.0.1 (DNS rebinding) and then, being "same
 * origin" with its own name, read what a gateway on the developer's laptop answers and drive its
 * dashboard and admin API. The browser still sends the page's own name as `Host`, so refusing
 * names Sluice was not told about stops it.
 *
 * An entry is a name or address (`api.example.com`, `10.0.0.5`, `[::1]`), `*.` and a domain for
 * its subdomains, with `:port` to accept that port only (without, any port); `*` accepts every
 * host. Names compare in any case and without a trailing dot. When publicHosts is not set, every
 * host is accepted, except on a loopback address with no trusted proxy in front (the developer's
 * laptop): then only the loopback names are (LOOPBACK_HOSTS, and the address listened on). A
 * request without `Host` (HTTP/1.0) passes: browsers always send one.
 *
 * @example
 * const check = publicHostCheck({ host: "127.0.0.1", publicHosts: undefined, trustedProxies: undefined });
 * check?.("localhost:8080")   // true
 * check?.("evil.example")     // false
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SluiceConfig } from "../config/schema.js";
import { problems } from "../problems/catalogue.js";
import { sendProblem } from "../problems/problemDocument.js";

/** What a loopback Sluice answers unless told otherwise: names that always mean this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "*.localhost", "127.0.0.1", "[::1]"];

export type PublicHostsSettings = Pick<SluiceConfig["server"], "host" | "publicHosts" | "trustedProxies">;

/** Whether a Host header value may be answered. */
export type HostCheck = (host: string | undefined) => boolean;

/** The check for these settings, or undefined when every host is accepted (no cost per request). */
export function publicHostCheck({ host, publicHosts, trustedProxies }: PublicHostsSettings): HostCheck | undefined {
  if (publicHosts === undefined) {
    if (!isLoopback(host) || trustedProxies !== undefined) return undefined;
    return compileHosts([...LOOPBACK_HOSTS, host.includes(":") ? `[${host}]` : host]);
  }
  return publicHosts.includes("*") ? undefined : compileHosts(publicHosts);
}

/**
 * Answers a request whose Host `check` refuses (421, connection closed) and returns true; returns
 * false, having written nothing, for one it accepts or when there is no check. The answer's detail
 * names `setting`, the one that decides which hosts are served.
 */
export function refusedHost(check: HostCheck | undefined, req: IncomingMessage, res: ServerResponse, setting = "server.publicHosts"): boolean {
  if (check === undefined || check(req.headers.host)) return false;
  sendProblem(res, problems.misdirectedRequest, `This server does not answer for the host in the Host header (${setting}).`, { connection: "close" });
  return true;
}

/** Whether Sluice listens on this machine only. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** Host values already accepted, remembered up to this many so the usual request parses nothing. */
const REMEMBERED = 64;

function compileHosts(entries: readonly string[]): HostCheck {
  /** "name" (any port) and "name:port". */
  const exact = new Set<string>();
  /** [".domain", port or ""] of the `*.domain` entries. */
  const subdomains: [string, string][] = [];
  for (const entry of entries) {
    const { name, port } = splitHost(entry.toLowerCase())!;
    if (name.startsWith("*.")) subdomains.push([name.slice(1), port]);
    else exact.add(port === "" ? name : `${name}:${port}`);
  }
  const accepted = new Set<string>();
  return function acceptsHost(host) {
    if (host === undefined || accepted.has(host)) return true;
    const split = splitHost(host.toLowerCase());
    if (split === undefined) return false;
    const { name, port } = split;
    const ok = exact.has(name) || (port !== "" && exact.has(`${name}:${port}`))
      || subdomains.some(([domain, only]) => name.endsWith(domain) && name.length > domain.length && (only === "" || only === port));
    if (ok && accepted.size < REMEMBERED) accepted.add(host);
    return ok;
  };
}

/** A host value's name (without a trailing dot) and port ("" when none); undefined when malformed. */
function splitHost(host: string): { name: string; port: string } | undefined {
  let name: string;
  let port = "";
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end === -1) return undefined;
    name = host.slice(0, end + 1);
    const rest = host.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return undefined;
    port = rest.slice(1);
  } else {
    const colon = host.lastIndexOf(":");
    name = colon === -1 ? host : host.slice(0, colon);
    if (colon !== -1) port = host.slice(colon + 1);
  }
  if (!/^\d{0,5}$/.test(port) || name === "") return undefined;
  return { name: name.endsWith(".") ? name.slice(0, -1) : name, port };
}
