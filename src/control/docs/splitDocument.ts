/**
 * /docs shows two documents, not one: the consumer API (the gateway's services with an API key,
 * sign-in and a user's own keys and usage) and the admin API (users, keys, plans, the limit
 * inspector, service tokens and the rate-limit service). Each keeps only its own paths, the tags
 * and security schemes those paths use, and every shared schema; /openapi.json stays whole.
 *
 * @example
 * splitDocument(document, "admin"); // → the document with /admin/api/* and /v1/ratelimit* only
 */

type Json = Record<string, unknown>;

export const DOC_PARTS = ["consumer", "admin"] as const;
export type DocPart = (typeof DOC_PARTS)[number];

/** Which part a path belongs to: operators' endpoints are admin, the rest is the consumer's. */
export function partOf(path: string): DocPart {
  return path.startsWith("/admin/") || path.startsWith("/v1/ratelimit") ? "admin" : "consumer";
}

const TITLES: Readonly<Record<DocPart, string>> = {
  consumer: "Sluice: consumer API",
  admin: "Sluice: admin API",
};

const INTROS: Readonly<Record<DocPart, string>> = {
  consumer: "Call the gateway's services with your API key, and manage your account, keys and usage. [Back to the dashboard](/)\n\n",
  admin: "For operators: users, keys, plans, live limits and service tokens (the admin token or an admin's session), and the rate-limit service. [Back to the dashboard](/)\n\n",
};

export function splitDocument(document: Json, part: DocPart): Json {
  const paths = Object.fromEntries(Object.entries((document["paths"] ?? {}) as Json).filter(([path]) => partOf(path) === part));
  const operations = Object.values(paths).flatMap((item) => Object.values(item as Json)).filter((op): op is Json => typeof op === "object" && op !== null);
  const usedTags = new Set(operations.flatMap((op) => (op["tags"] as string[] | undefined) ?? []));
  // The document-wide requirement (the API key) is the consumer's; the admin part drops it.
  const documentWide = part === "consumer" ? ((document["security"] as Json[] | undefined) ?? []) : [];
  const security = [...operations.flatMap((op) => (op["security"] as Json[] | undefined) ?? []), ...documentWide];
  const usedSchemes = new Set(security.flatMap((requirement) => Object.keys(requirement)));
  const components = (document["components"] ?? {}) as Json;
  const schemes = Object.fromEntries(Object.entries((components["securitySchemes"] ?? {}) as Json).filter(([name]) => usedSchemes.has(name)));
  const info = (document["info"] ?? {}) as Json;
  return {
    ...document,
    info: { ...info, title: TITLES[part], description: INTROS[part] + (typeof info["description"] === "string" ? info["description"] : "") },
    tags: ((document["tags"] ?? []) as Array<{ name: string }>).filter((tag) => usedTags.has(tag.name)),
    paths,
    ...(part === "admin" && { security: [] }),
    components: { ...components, securitySchemes: schemes },
  };
}
