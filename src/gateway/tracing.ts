/**
 * OpenTelemetry traces of the gateway's requests, when the config has a `tracing` section (off
 * by default): one SERVER span per request, a child span per pipeline stage that ran, and a
 * CLIENT span for the upstream call, from its dispatch to the response's end. Spans go through a
 * BatchSpanProcessor to an OTLP/HTTP (JSON) collector; `close` flushes them at shutdown.
 *
 * W3C trace context: an incoming `traceparent` (and `tracestate`) is the SERVER span's parent,
 * its sampled flag decides (ParentBased), and `sampleRatio` decides for requests without one.
 * The upstream gets a `traceparent` naming the CLIENT span, never the client's as it came.
 *
 * Cost: when tracing is off, the pipeline is built without it (pipeline.ts): a request pays an
 * `undefined` field and three `undefined` checks (at arrival, on the upstream headers, on each
 * upstream attempt); no stage pays any. When on, a request
 * holds one `RequestTrace`; stage spans are opened and closed by named wrappers made once per
 * gateway, and a stage that answers later (a promise) has its span closed by whatever comes
 * next (the next stage, or the request's end), so no closure is made per request. Attributes
 * never hold the API key or the query string. An export failure never touches a request: it is
 * logged once at `warn` (and once at `info` when exports work again).
 *
 * @example
 * const tracing = config.tracing && gatewayTracing(config.tracing, logger);
 * createGatewayHandler({ ...deps, tracing });
 * await tracing?.close(); // at shutdown, after the last request has ended
 */
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace";
import {
  ATTR_CLIENT_ADDRESS, ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_RESEND_COUNT, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_URL_PATH, ATTR_URL_SCHEME,
} from "@opentelemetry/semantic-conventions";
import type { SluiceConfig } from "../config/schema.js";
import type { Exchange, Rejection, Stage } from "./exchange.js";
import { problems, type ProblemKind } from "../problems/catalogue.js";
import { requestOutcome } from "./gatewayObserver.js";
import type { Logger } from "../observability/logger.js";
import { redactUrl } from "../observability/redactUrl.js";

export type TracingConfig = NonNullable<SluiceConfig["tracing"]>;

/** What the gateway pipeline calls (pipeline.ts); undefined when tracing is off. */
export interface GatewayTracing {
  /** The trace of a request that has just arrived: its SERVER span, child of the request's `traceparent`. */
  start(exchange: Exchange): RequestTrace;
  /** The stages, each run in a span of its own (made once per gateway generation). */
  traceStages(stages: readonly Stage[]): Stage[];
  /** `observer`, followed by the end of the request's trace: the gateway's `exchangeEnded`. */
  endingTraces(observer: ((exchange: Exchange) => void) | undefined): (exchange: Exchange) => void;
  /** Exports the spans buffered so far; a failed export is logged, never thrown. */
  flush(): Promise<void>;
  /** Exports what is left and stops; at shutdown, once requests have ended. */
  close(): Promise<void>;
}

/** Sluice's own span attributes, beside the semantic conventions' HTTP ones. */
export const SLUICE_ATTRIBUTES = {
  requestId: "sluice.request_id",
  consumer: "sluice.consumer.id",
  service: "sluice.service",
  route: "sluice.route",
  stageOutcome: "sluice.stage.outcome",
  problem: "sluice.problem",
  limiterOutcome: "sluice.limiter.outcome",
  limit: "sluice.limiter.limit",
  upstreamOrigin: "sluice.upstream.origin",
} as const;

const propagator = new W3CTraceContextPropagator();
/** Longest wait for the collector's answer to one export, retries included. */
const EXPORT_TIMEOUT_MS = 10_000;

export function gatewayTracing(config: TracingConfig, logger: Logger): GatewayTracing {
  const exporter = new WarnOnceExporter(new OTLPTraceExporter({ url: config.endpoint, headers: config.headers ?? {}, timeoutMillis: EXPORT_TIMEOUT_MS }), logger, redactUrl(config.endpoint));
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
  });
  const tracer = provider.getTracer("sluice");
  // Failures were logged by the exporter: a flush or a shutdown only waits for the attempt.
  const settle = (done: Promise<void>) => done.catch(() => undefined);
  return {
    start: (exchange) => new RequestTrace(tracer, exchange),
    traceStages: (stages) => stages.map(tracedStage),
    endingTraces: (observer) => function exchangeEnded(exchange) {
      observer?.(exchange);
      exchange.trace?.end(exchange);
    },
    flush: () => settle(provider.forceFlush()),
    close: () => settle(provider.shutdown()),
  };
}

/**
 * One request's spans. Stages run one at a time, so at most one stage span is open; the CLIENT
 * span starts when the upstream request's headers are made and ends with the response.
 */
export class RequestTrace {
  readonly #tracer: Tracer;
  readonly #server: Span;
  /** The SERVER span's context: parent of the stage spans and the CLIENT span. */
  readonly #context: Context;
  /** False for a request not sampled: no stage spans, only the context the upstream is given. */
  readonly #recording: boolean;
  #stage: Span | undefined = undefined;
  #stageName = "";
  #client: Span | undefined = undefined;

  constructor(tracer: Tracer, exchange: Exchange) {
    const { req } = exchange;
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    this.#tracer = tracer;
    this.#server = tracer.startSpan(method, {
      kind: SpanKind.SERVER,
      attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: queryAt === -1 ? url : url.slice(0, queryAt), [ATTR_URL_SCHEME]: "encrypted" in req.socket ? "https" : "http" },
    }, parent);
    this.#context = trace.setSpan(parent, this.#server);
    this.#recording = this.#server.isRecording();
  }

  /** A stage begins: the previous one, if it answered later, is closed now as having let the request through. */
  stageStarted(exchange: Exchange, name: string): void {
    if (!this.#recording) return;
    if (this.#stage !== undefined) this.#endStage(exchange, undefined);
    this.#stageName = name;
    this.#stage = this.#tracer.startSpan(name, undefined, this.#context);
  }

  /** A stage answered at once: through (undefined) or with a refusal. */
  stageReturned(exchange: Exchange, rejection: Rejection | undefined): void {
    if (this.#stage !== undefined) this.#endStage(exchange, rejection?.kind);
  }

  /**
   * Starts the upstream call's CLIENT span and writes its `traceparent` (and the trace's
   * `tracestate`) into the upstream request's headers, in place of any the client sent.
   */
  upstreamHeaders(exchange: Exchange, headers: Record<string, string | string[]>): void {
    const method = exchange.req.method ?? "GET";
    const client = this.#tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method } }, this.#context);
    this.#client = client;
    delete headers["traceparent"];
    delete headers["tracestate"];
    propagator.inject(trace.setSpan(this.#context, client), headers, defaultTextMapSetter);
  }

  /** The upstream call is sent to `target`; `retry` counts the attempts before this one. */
  upstreamAttempt(target: URL, retry: number): void {
    const client = this.#client;
    if (client === undefined || !this.#recording) return;
    client.setAttribute(ATTR_SERVER_ADDRESS, target.hostname);
    client.setAttribute(ATTR_SERVER_PORT, target.port === "" ? (target.protocol === "https:" ? 443 : 80) : Number(target.port));
    client.setAttribute(SLUICE_ATTRIBUTES.upstreamOrigin, target.origin);
    if (retry > 0) client.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, retry);
  }

  /** The response has closed (sent whole, cut off, or left by the client): every open span ends. */
  end(exchange: Exchange): void {
    const { res, problem } = exchange;
    const status = res.headersSent ? res.statusCode : 0;
    if (this.#stage !== undefined) this.#endStage(exchange, problem, true);
    if (this.#client !== undefined) this.#endClient(exchange, status);
    const server = this.#server;
    if (!this.#recording) {
      server.end();
      return;
    }
    const { service, route, consumer } = exchange;
    server.setAttribute(SLUICE_ATTRIBUTES.requestId, exchange.requestId);
    server.setAttribute(ATTR_CLIENT_ADDRESS, exchange.clientIp);
    if (exchange.peerIp !== exchange.clientIp) server.setAttribute(ATTR_NETWORK_PEER_ADDRESS, exchange.peerIp);
    if (consumer !== undefined) server.setAttribute(SLUICE_ATTRIBUTES.consumer, consumer.id);
    if (service !== undefined) server.setAttribute(SLUICE_ATTRIBUTES.service, service.name);
    if (route !== undefined) {
      server.setAttribute(SLUICE_ATTRIBUTES.route, route.id);
      server.setAttribute(ATTR_HTTP_ROUTE, `/api/${service!.name}${route.path}${route.prefix ? "*" : ""}`);
    }
    server.updateName(`${exchange.req.method ?? "GET"} ${route?.id ?? service?.name ?? "/api"}`);
    if (status !== 0) server.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (problem !== undefined) server.setAttribute(SLUICE_ATTRIBUTES.problem, problem.code);
    if (status >= 500 || problem === problems.internal) {
      server.setAttribute(ATTR_ERROR_TYPE, problem?.code ?? String(status));
      server.setStatus({ code: SpanStatusCode.ERROR });
    }
    server.end();
  }

  /** Ends the open stage span with what the stage did; `atEnd`: it was still open when the request ended. */
  #endStage(exchange: Exchange, problem: ProblemKind | undefined, atEnd = false): void {
    const span = this.#stage!;
    this.#stage = undefined;
    span.setAttribute(SLUICE_ATTRIBUTES.stageOutcome, problem === problems.internal ? "failed" : problem !== undefined ? "refused" : atEnd ? "unfinished" : "continued");
    if (problem !== undefined) {
      span.setAttribute(SLUICE_ATTRIBUTES.problem, problem.code);
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, problem.status);
      if (problem.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    stageAttributes(span, this.#stageName, exchange);
    span.end();
  }

  #endClient(exchange: Exchange, status: number): void {
    const client = this.#client!;
    this.#client = undefined;
    if (this.#recording) {
      const responded = exchange.upstreamRespondedAt !== 0;
      if (responded) client.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      const failure = !responded ? exchange.problem?.code ?? "client_closed"
        : status >= 500 ? String(status)
        : status !== 101 && !exchange.res.writableFinished ? "response_incomplete" : undefined;
      if (failure !== undefined) {
        client.setAttribute(ATTR_ERROR_TYPE, failure);
        if (failure !== "client_closed") client.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    client.end();
  }
}

/** What a stage left on the exchange, on its span: who authenticated, which route, what the limits decided. */
function stageAttributes(span: Span, stage: string, exchange: Exchange): void {
  if (stage === "authenticate") {
    if (exchange.consumer !== undefined) span.setAttribute(SLUICE_ATTRIBUTES.consumer, exchange.consumer.id);
  } else if (stage === "route") {
    if (exchange.service !== undefined) span.setAttribute(SLUICE_ATTRIBUTES.service, exchange.service.name);
    if (exchange.route !== undefined) span.setAttribute(SLUICE_ATTRIBUTES.route, exchange.route.id);
  } else if (stage === "limit" && exchange.verdict !== undefined) {
    const { outcome, limit } = requestOutcome(exchange.verdict);
    span.setAttribute(SLUICE_ATTRIBUTES.limiterOutcome, outcome);
    if (limit !== undefined) span.setAttribute(SLUICE_ATTRIBUTES.limit, limit);
  }
}

/** A stage run in a span of its own, under the stage's name (so stack traces still read like the pipeline). */
function tracedStage(stage: Stage): Stage {
  const name = stage.name;
  return {
    [name](exchange: Exchange): ReturnType<Stage> {
      const trace = exchange.trace!;
      trace.stageStarted(exchange, name);
      const result = stage(exchange);
      if (!(result instanceof Promise)) trace.stageReturned(exchange, result);
      return result;
    },
  }[name]!;
}

/**
 * The OTLP exporter, telling the log once when exports start failing (not per batch, not per
 * span) and once when they work again. Spans of a failed export are dropped.
 */
class WarnOnceExporter implements SpanExporter {
  #failing = false;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly logger: Logger,
    private readonly endpoint: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exporter.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        if (!this.#failing) {
          this.#failing = true;
          this.logger.warn({ endpoint: this.endpoint, spans: spans.length, message: result.error?.message }, "could not export traces: spans are dropped until the collector answers (logged once)");
        }
      } else if (this.#failing) {
        this.#failing = false;
        this.logger.info({ endpoint: this.endpoint }, "traces are exported again");
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush?.() ?? Promise.resolve();
  }
}
