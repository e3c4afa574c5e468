/**
 * Preloaded into a gateway by bench/tail.ts (`node --import <this file>`): splits the gateway's
 * latency into what it spends waiting for its upstream and what it spends itself, and says what
 * stalled its event loop. Plain JavaScript, because the gateway under test runs without tsx.
 *
 * - **in process**: from node:http's `http.server.request.start` to `http.server.response.finish`,
 *   the time a request spends inside the gateway, upstream included;
 * - **upstream leg**: from undici's `undici:client:sendHeaders` to `undici:request:headers`, the
 *   wait for the upstream's answer, as the gateway sees it: the upstream's own time, the network,
 *   and any delay of the gateway's event loop in reading the answer;
 * - **event-loop delay**: perf_hooks' histogram at a 1 ms resolution;
 * - **GC pauses**: perf_hooks `gc` entries, scavenges (minor) apart from mark-compacts (major);
 * - **connections opened**: client connections whose first request came in the period (a client
 *   reconnecting after the gateway closed an idle keep-alive connection shows here).
 *
 * Both gateways bench/tail.ts measures (Sluice and the reference floor) are node:http in front of
 * undici, so the same channels see both. On SIGUSR2 the probe appends what it saw since the last
 * signal, as one JSON line, to $LATENCY_PROBE_FILE, and starts afresh.
 */
import { subscribe } from "node:diagnostics_channel";
import { appendFileSync } from "node:fs";
import { constants, createHistogram, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import process from "node:process";

const file = process.env["LATENCY_PROBE_FILE"];
if (file === undefined) throw new Error("latencyProbe.mjs needs LATENCY_PROBE_FILE");

const inProcess = createHistogram();
const upstream = createHistogram();
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
/** Pause durations (ms) by kind since the last report. */
let pauses = { minor: [], major: [] };

const since = (start) => Number(process.hrtime.bigint() - start);
// Keyed by the objects each pair of events shares: node's response, undici's request.
const received = new WeakMap();
const sent = new WeakMap();
const seenSockets = new WeakSet();
let connectionsOpened = 0;
subscribe("http.server.request.start", ({ response, socket }) => {
  received.set(response, process.hrtime.bigint());
  if (!seenSockets.has(socket)) {
    seenSockets.add(socket);
    connectionsOpened++;
  }
});
subscribe("http.server.response.finish", ({ response }) => {
  const start = received.get(response);
  if (start !== undefined) inProcess.record(Math.max(1, since(start)));
});
subscribe("undici:client:sendHeaders", ({ request }) => sent.set(request, process.hrtime.bigint()));
subscribe("undici:request:headers", ({ request }) => {
  const start = sent.get(request);
  if (start !== undefined) upstream.record(Math.max(1, since(start)));
});
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = entry.detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.minor.push(entry.duration);
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) pauses.major.push(entry.duration);
  }
}).observe({ entryTypes: ["gc"] });

/** Percentiles of a histogram of nanoseconds, in µs. */
const percentiles = (histogram) => ({
  count: histogram.count,
  p50: histogram.percentile(50) / 1000,
  p99: histogram.percentile(99) / 1000,
  p999: histogram.percentile(99.9) / 1000,
  max: histogram.max / 1000,
});
const summary = (durations) => ({
  count: durations.length,
  totalMs: durations.reduce((sum, d) => sum + d, 0),
  maxMs: durations.reduce((max, d) => Math.max(max, d), 0),
});

process.on("SIGUSR2", () => {
  const report = {
    inProcessUs: percentiles(inProcess),
    upstreamUs: percentiles(upstream),
    loopDelayUs: percentiles(loopDelay),
    gc: { minor: summary(pauses.minor), major: summary(pauses.major) },
    connectionsOpened,
  };
  appendFileSync(file, `${JSON.stringify(report)}\n`);
  inProcess.reset();
  upstream.reset();
  loopDelay.reset();
  pauses = { minor: [], major: [] };
  connectionsOpened = 0;
});
