/**
 * The load generator of bench/service.ts's `sluice-grpc` row, run as its own process (pinned to
 * the load core): `callers` concurrent callers send Envoy's ShouldRateLimit back to back for
 * `seconds` over one @grpc/grpc-js channel (one HTTP/2 connection, as Envoy multiplexes its
 * calls), each for the next of 10,000 users under a limit that never refuses. Prints one JSON
 * line, the bench's LoadResult: an error or an OVER_LIMIT answer counts as a failure. The domain
 * "bench" and its descriptor key "user" are the policy bench/service.ts gives the server.
 *
 * Usage: node --import tsx bench/service/grpcLoad.ts <host:port> <callers> <seconds>
 */
import { envoyRlsClient, type RlsRequest } from "../../test/service/grpc/envoyRlsClient.js";

const USERS = 10_000;

async function main(address: string, callers: number, seconds: number): Promise<void> {
  const client = envoyRlsClient(address);
  const requests: RlsRequest[] = Array.from({ length: USERS }, (_, i) => ({ domain: "bench", descriptors: [{ entries: [{ key: "user", value: `user-${i}` }] }] }));
  const latenciesUs: number[] = [];
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  const until = started + BigInt(seconds * 1e9);
  const caller = async () => {
    while (process.hrtime.bigint() < until) {
      const request = requests[next++ % USERS]!;
      const t = process.hrtime.bigint();
      try {
        const response = await client.shouldRateLimit(request);
        if (response.overall_code !== "OK") failures++;
      } catch {
        failures++;
      }
      latenciesUs.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  const durationUs = Number(process.hrtime.bigint() - started) / 1000;
  client.close();
  latenciesUs.sort((a, b) => a - b);
  const at = (q: number) => latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(latenciesUs.length * q))] ?? 0;
  process.stdout.write(`${JSON.stringify({ requests: latenciesUs.length, durationUs: Math.round(durationUs), failures, p50Us: Math.round(at(0.5)), p99Us: Math.round(at(0.99)) })}\n`);
}

const [address, callers, seconds] = process.argv.slice(2);
if (address === undefined) throw new Error("usage: grpcLoad.ts <host:port> <callers> <seconds>");
await main(address, Number(callers ?? 100), Number(seconds ?? 10));
