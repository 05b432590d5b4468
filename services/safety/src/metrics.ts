import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastCounter, FastHistogram } from './fastMetrics.js';
import { BREAKER_STATE_VALUE, type BreakerState } from './resilience/breaker.js';

/**
 * All Prometheus series of the service, on a registry of its own (one per app
 * instance). Series updated on every request (requests, per-layer latency and
 * verdicts, request latency) are FastCounter/FastHistogram (see fastMetrics.ts);
 * the rest are prom-client metrics. render() concatenates both.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Moderation requests answered, by endpoint and combined verdict. */
  readonly requests = new FastCounter(
    'safety_requests_total',
    'Moderation requests answered, by endpoint and verdict (safe|warning|blocked)',
    ['endpoint', 'verdict'],
  );

  /** Requests rejected before moderation (4xx) or failed (5xx). */
  readonly requestErrors = new Counter({
    name: 'safety_request_errors_total',
    help: 'Requests answered with an error status, by endpoint and status code',
    labelNames: ['endpoint', 'status_code'] as const,
    registers: [this.registry],
  });

  /** Verdict categories reported in non-safe combined results. */
  readonly categories = new Counter({
    name: 'safety_verdict_categories_total',
    help: 'Categories in non-safe verdicts, by direction (input|output), category and verdict level',
    labelNames: ['direction', 'category', 'level'] as const,
    registers: [this.registry],
  });

  readonly layerDuration = new FastHistogram(
    'safety_layer_duration_seconds',
    'Latency of each layer, by layer and direction',
    ['layer', 'direction'],
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  readonly layerVerdicts = new FastCounter(
    'safety_layer_verdicts_total',
    'Verdicts of each layer, by layer, direction and level',
    ['layer', 'direction', 'level'],
  );

  readonly requestDuration = new FastHistogram(
    'safety_request_duration_seconds',
    'Moderation latency (all layers), by endpoint',
    ['endpoint'],
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  /** Failed Azure attempts by kind (timeout|http|network|malformed), and calls refused by the open breaker (circuit_open). */
  readonly azureErrors = new Counter({
    name: 'safety_azure_errors_total',
    help: 'Azure Content Safety errors by kind: timeout|http|network|malformed per failed HTTP attempt, circuit_open per call refused by the breaker',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly azureHttpErrors = new Counter({
    name: 'safety_azure_http_errors_total',
    help: 'Azure Content Safety HTTP error responses by status code',
    labelNames: ['status_code'] as const,
    registers: [this.registry],
  });

  readonly azureAttempts = new Counter({
    name: 'safety_azure_attempts_total',
    help: 'HTTP attempts to Azure Content Safety, by outcome (success|failure)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly breakerTransitions = new Counter({
    name: 'safety_azure_circuit_breaker_transitions_total',
    help: 'Circuit breaker state transitions, by target state',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });

  /** Requests answered 503 because Azure calls were shed by admission control. */
  readonly shed = new Counter({
    name: 'safety_azure_shed_total',
    help: 'Azure calls shed by admission control (answered 503 + Retry-After), by reason: queue_full|queue_timeout|starved',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Matches of the local layers on decoded (base64, percent, hex) content: the evasion was caught on the second pass. */
  readonly decodedMatches = new Counter({
    name: 'safety_decoded_matches_total',
    help: 'Local-layer matches found only after decoding an encoded run (base64, percent-encoding, hex), by layer',
    labelNames: ['layer'] as const,
    registers: [this.registry],
  });

  constructor(
    opts: { breakerState?: () => BreakerState | undefined; azureInFlight?: () => { inFlight: number; queued: number } | undefined; defaultMetrics?: boolean } = {},
  ) {
    const read = opts.breakerState;
    const load = opts.azureInFlight;
    new Gauge({
      name: 'safety_azure_in_flight',
      help: 'Azure calls in flight (state=running) and waiting for admission (state=queued)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const l = load?.();
        this.set({ state: 'running' }, l?.inFlight ?? 0);
        this.set({ state: 'queued' }, l?.queued ?? 0);
      },
    });
    new Gauge({
      name: 'safety_azure_circuit_breaker_state',
      help: 'Azure circuit breaker state: 0 closed, 1 open, 2 half-open; -1 when the Azure layer is disabled',
      registers: [this.registry],
      collect() {
        const s = read?.();
        this.set(s === undefined ? -1 : BREAKER_STATE_VALUE[s]);
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The full exposition (Prometheus text format 0.0.4). */
  async render(): Promise<string> {
    const base = await this.registry.metrics();
    const fast = [this.requests, this.requestDuration, this.layerDuration, this.layerVerdicts].map((m) => m.render()).join('\n\n');
    return `${base}\n${fast}\n`;
  }
}
