/**
 * Keeps the gateway's OpenAPI document current. It is built at start-up from what the upstreams
 * publish; when an upstream did not answer, the next request for the document (at most every
 * 10 s) asks again, so /docs fills in once a slow upstream comes up.
 */
import type { RouteTable } from "../gateway/routeTable.js";
import { buildOpenApi, fetchUpstreamDoc, type OpenApiSection } from "./openapi.js";

const RETRY_MS = 10_000;

export class ApiDocs {
  #document: Record<string, unknown> = {};
  #complete = false;
  #builtAt = 0;

  constructor(
    private readonly table: RouteTable,
    /** The control plane's own endpoints to describe beside the services'. */
    private readonly sections: readonly OpenApiSection[] = [],
  ) {}

  /** The last built document, synchronously (Swagger UI's hook cannot wait). */
  get current(): Record<string, unknown> {
    return this.#document;
  }

  /** The document, rebuilt first when an upstream was missing from it and enough time passed. */
  async fresh(): Promise<Record<string, unknown>> {
    if (!this.#complete && Date.now() - this.#builtAt >= RETRY_MS) await this.refresh();
    return this.#document;
  }

  async refresh(): Promise<void> {
    const names = [...this.table.keys()];
    const docs = await Promise.all(names.map((name) => fetchUpstreamDoc(this.table, name)));
    this.#document = buildOpenApi(this.table, new Map(names.map((name, i) => [name, docs[i]])), this.sections);
    this.#complete = names.every((name, i) => docs[i] !== undefined || this.table.get(name)?.config.openapi === false);
    this.#builtAt = Date.now();
  }
}
