// A TCP port on 127.0.0.1 that was free a moment ago and has nothing listening on it now: for a
// process that must be told its port in advance, or for a target that refuses connections.
import { once } from "node:events";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}
