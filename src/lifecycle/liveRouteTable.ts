/**
 * A read-only view of whichever route table the gateway serves now, for the parts built once at
 * start-up that look services up later (the control plane's readiness probes and API docs): they
 * keep this view and see every reload. The gateway's own stages hold their generation's table
 * directly, so the hot path pays no indirection.
 *
 * @example
 * const table = new LiveRouteTable(() => generation.table);
 * new ApiDocs(table); // documents the services of the current configuration, after every reload
 */
import type { CompiledService, RouteTable } from "../gateway/routeTable.js";

export class LiveRouteTable implements RouteTable {
  constructor(private readonly current: () => RouteTable) {}

  get size(): number {
    return this.current().size;
  }

  get(name: string): CompiledService | undefined {
    return this.current().get(name);
  }

  has(name: string): boolean {
    return this.current().has(name);
  }

  keys(): MapIterator<string> {
    return this.current().keys();
  }

  values(): MapIterator<CompiledService> {
    return this.current().values();
  }

  entries(): MapIterator<[string, CompiledService]> {
    return this.current().entries();
  }

  forEach(callback: (value: CompiledService, key: string, map: ReadonlyMap<string, CompiledService>) => void, thisArg?: unknown): void {
    this.current().forEach(callback, thisArg);
  }

  [Symbol.iterator](): MapIterator<[string, CompiledService]> {
    return this.current()[Symbol.iterator]();
  }
}
