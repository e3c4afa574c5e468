/**
 * `/metrics` under `sluice start --workers N`. The workers share one port, so a scrape reaches
 * whichever worker accepts it; if that worker answered with its own series, every scrape would
 * see another process's counters and Prometheus would read each switch as a reset. Instead the
 * worker asks the primary, and the primary gathers every worker's series over the cluster's IPC
 * channel and aggregates them (prom-client's AggregatorRegistry: counters and histograms summed,
 * gauges by the aggregator each declares), so any worker answers for the whole instance.
 *
 *   scrape → worker ──"sluice:metrics"──► primary ──prom-client's request──► every worker
 *   text   ◄─ worker ◄───── aggregated text ───── primary ◄──── their series (JSON) ────┘
 *
 * @example
 * // the primary, before forking:  serveClusterMetrics();
 * // each worker: render = clusterMetricsRenderer(registry)
 */
import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

const METRICS_MESSAGE = "sluice:metrics";
/** Longer than the primary's own wait for the workers (prom-client's 5 s), so its error arrives first. */
const ANSWER_TIMEOUT_MS = 6_000;

interface MetricsRequest {
  readonly sluice: typeof METRICS_MESSAGE;
  readonly id: number;
}

interface MetricsAnswer extends MetricsRequest {
  readonly text?: string;
  readonly error?: string;
}

const isMetricsMessage = (message: unknown): message is MetricsAnswer => (message as Partial<MetricsRequest> | null)?.sluice === METRICS_MESSAGE;

/** In the primary: answers each worker's scrape with every worker's series, aggregated. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, message: unknown) => {
    if (!isMetricsMessage(message)) return;
    const { id } = message;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ sluice: METRICS_MESSAGE, id, text } satisfies MetricsAnswer),
      (error: unknown) => worker.isConnected() && worker.send({ sluice: METRICS_MESSAGE, id, error: (error as Error).message } satisfies MetricsAnswer),
    );
  });
}

/** In a worker: offers `registry` to the primary's aggregation, and renders /metrics by asking the primary. */
export function clusterMetricsRenderer(registry: Registry): () => Promise<string> {
  // Constructing one installs prom-client's worker listener, which answers the primary with `registry`.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const waiting = new Map<number, (answer: MetricsAnswer) => void>();
  let nextId = 0;
  process.on("message", (message: unknown) => {
    if (isMetricsMessage(message)) waiting.get(message.id)?.(message);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => settle({ sluice: METRICS_MESSAGE, id, error: "the primary process did not answer" }), ANSWER_TIMEOUT_MS);
      function settle(answer: MetricsAnswer): void {
        clearTimeout(timer);
        waiting.delete(id);
        if (answer.text !== undefined) resolve(answer.text);
        else reject(new Error(`could not gather the workers' metrics: ${answer.error ?? "no answer"}`));
      }
      waiting.set(id, settle);
      process.send!({ sluice: METRICS_MESSAGE, id } satisfies MetricsRequest);
    });
}
