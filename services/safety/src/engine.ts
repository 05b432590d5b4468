import { AzureContentSafetyClient } from './azure/client.js';
import type { Config } from './config.js';
import { AzureContentSafetyLayer } from './layers/azure.js';
import { HeuristicsLayer } from './layers/heuristics.js';
import { KeywordBlocklistLayer } from './layers/keywords.js';
import { enabledDefaultLists, type RegexList, type TermList } from './defaults.js';
import { hallucinationLayer, PromptInjectionLayer } from './layers/phraseLayer.js';
import { TextViews } from './normalize.js';
import { RegexBlocklistLayer } from './layers/regex.js';
import type { Metrics } from './metrics.js';
import { Admission, OverloadedError } from './resilience/admission.js';
import { CircuitBreaker } from './resilience/breaker.js';
import type { CheckContext, Direction, Layer, LayerResult, Level, ModerationResult, ReportedLayerResult } from './types.js';
import { combine } from './verdict.js';

export interface EngineDeps {
  readonly metrics: Metrics;
  /** Injectable clock for the circuit breaker (ms). */
  readonly now?: () => number;
  readonly random?: () => number;
  /** Extra layers appended to the pipeline (e.g. a vLLM-served guard model). */
  readonly extraLayers?: readonly Layer[];
}

/** Runs the applicable layers for a direction, concurrently, and combines the results. */
export class SafetyEngine {
  readonly layers: readonly Layer[];
  readonly breaker: CircuitBreaker | undefined;
  readonly admission: Admission | undefined;
  private readonly normalization: Config['layers']['normalization'];
  private readonly client: AzureContentSafetyClient | undefined;
  private readonly byDirection: Readonly<Record<Direction, readonly Layer[]>>;
  private readonly probes: Readonly<Record<Direction, readonly LayerProbe[]>>;

  constructor(
    readonly config: Config,
    private readonly deps: EngineDeps,
  ) {
    const layers: Layer[] = [];
    const l = config.layers;
    const defaults = enabledDefaultLists(l.defaults.enabled, l.defaults.disable);
    const keywordLists = defaults.filter((d): d is TermList => d.kind === 'keyword');
    const injectionLists = defaults.filter((d): d is TermList => d.kind === 'injection');
    const regexLists = defaults.filter((d): d is RegexList => d.kind === 'regex');
    this.normalization = l.normalization;
    if (l.keywordBlocklist.enabled) layers.push(new KeywordBlocklistLayer(l.keywordBlocklist, keywordLists, l.normalization));
    if (l.regexBlocklist.enabled) layers.push(new RegexBlocklistLayer(l.regexBlocklist, regexLists, l.normalization));
    if (l.heuristics.enabled) layers.push(new HeuristicsLayer(l.heuristics));
    if (l.promptInjection.enabled) layers.push(new PromptInjectionLayer(l.promptInjection, injectionLists, l.normalization));
    if (l.hallucination.enabled) layers.push(hallucinationLayer(l.hallucination));

    const az = config.azure;
    if (az.enabled) {
      if (az.endpoint === undefined || config.azureKey === undefined) {
        // resolveConfig guarantees both; this guards programmatic misuse.
        throw new Error('azure.enabled is true but the endpoint or key is missing');
      }
      const metrics = deps.metrics;
      this.breaker = new CircuitBreaker({
        failureThreshold: az.circuitBreaker.failureThreshold,
        cooldownMs: az.circuitBreaker.cooldownMs,
        ...(deps.now ? { now: deps.now } : {}),
        onStateChange: (_from, to) => metrics.breakerTransitions.inc({ to }),
      });
      this.admission = new Admission({
        maxInFlight: az.admission.maxInFlight,
        maxQueue: az.admission.maxQueue,
        queueTimeoutMs: az.admission.queueTimeoutMs,
        retryAfterSeconds: az.admission.retryAfterSeconds,
      });
      const client = new AzureContentSafetyClient({
        endpoint: az.endpoint,
        key: config.azureKey,
        apiVersion: az.apiVersion,
        outputType: az.outputType,
        blocklistNames: az.blocklistNames,
        haltOnBlocklistHit: az.haltOnBlocklistHit,
        timeoutMs: az.timeoutMs,
        maxRetries: az.retry.maxRetries,
        baseDelayMs: az.retry.baseDelayMs,
        maxDelayMs: az.retry.maxDelayMs,
        breaker: this.breaker,
        admission: this.admission,
        maxConnections: az.admission.maxConnections,
        maxResponseBytes: az.maxResponseBytes,
        ...(az.starvationLagMs !== undefined ? { starvationLagMs: az.starvationLagMs } : {}),
        ...(deps.random ? { random: deps.random } : {}),
        observer: {
          attempt(outcome, status) {
            metrics.azureAttempts.inc({ outcome: outcome === 'success' ? 'success' : 'failure' });
            if (outcome !== 'success') metrics.azureErrors.inc({ kind: outcome });
            if (status !== undefined) metrics.azureHttpErrors.inc({ status_code: String(status) });
          },
          rejectedByBreaker() {
            metrics.azureErrors.inc({ kind: 'circuit_open' });
          },
          shed(reason) {
            metrics.shed.inc({ reason });
          },
        },
      });
      layers.push(
        new AzureContentSafetyLayer(client, {
          appliesTo: az.appliesTo,
          thresholds: az.thresholds,
          warnAtOrAbove: az.warnAtOrAbove,
          failureMode: config.failureMode,
          maxCharsPerCall: az.maxCharsPerCall,
          chunkConcurrency: az.admission.chunkConcurrency,
        }),
      );
      this.client = client;
    } else {
      this.breaker = undefined;
      this.admission = undefined;
      this.client = undefined;
    }

    for (const extra of deps.extraLayers ?? []) layers.push(extra);
    const names = new Set<string>();
    for (const layer of layers) {
      if (names.has(layer.name)) throw new Error(`duplicate layer name ${layer.name}`);
      names.add(layer.name);
    }
    this.layers = layers;
    this.byDirection = {
      input: layers.filter((x) => x.appliesTo.has('input')),
      output: layers.filter((x) => x.appliesTo.has('output')),
    };
    // Pre-bound metric children: no label hashing on the hot path.
    const m = deps.metrics;
    const probesFor = (direction: Direction): LayerProbe[] =>
      this.byDirection[direction].map((layer) => ({
        duration: m.layerDuration.child({ layer: layer.name, direction }),
        verdicts: {
          safe: m.layerVerdicts.child({ layer: layer.name, direction, level: 'safe' }),
          warning: m.layerVerdicts.child({ layer: layer.name, direction, level: 'warning' }),
          blocked: m.layerVerdicts.child({ layer: layer.name, direction, level: 'blocked' }),
        },
      }));
    this.probes = { input: probesFor('input'), output: probesFor('output') };
  }

  /**
   * Whether the service can currently give trustworthy answers: the Azure layer is
   * disabled, or its breaker is not open, or failures only produce warnings.
   */
  isAzureUsable(): boolean {
    if (this.breaker === undefined) return true;
    return this.breaker.state !== 'open';
  }

  /** Close the connection pool to Azure. */
  async close(): Promise<void> {
    await this.client?.close();
  }

  async moderate(text: string, context: CheckContext): Promise<ModerationResult> {
    const ctx: CheckContext = context.views !== undefined ? context : { ...context, views: new TextViews(text, this.normalization) };
    const layers = this.byDirection[ctx.direction];
    const probes = this.probes[ctx.direction];
    const results: ReportedLayerResult[] = new Array<ReportedLayerResult>(layers.length);
    let pending: Array<Promise<void>> | undefined;
    let shed: OverloadedError | undefined;

    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i] as Layer;
      const probe = probes[i] as LayerProbe;
      const start = performance.now();
      let out: LayerResult | Promise<LayerResult>;
      try {
        out = layer.check(text, ctx);
      } catch (e) {
        out = layerError(e);
      }
      if (isPromiseLike(out)) {
        const idx = i;
        (pending ??= []).push(
          Promise.resolve(out).then(
            (r) => {
              results[idx] = this.report(layer.name, probe, r, start);
            },
            (e: unknown) => {
              if (e instanceof OverloadedError) shed = e;
              results[idx] = this.report(layer.name, probe, layerError(e), start);
            },
          ),
        );
      } else {
        results[i] = this.report(layer.name, probe, out, start);
      }
    }
    if (pending !== undefined) await Promise.all(pending);
    if (shed !== undefined) throw shed;

    const combined = combine(results);
    if (combined.level !== 'safe') {
      // Count each category once per request, at the most restrictive level a layer gave it.
      const seen = new Map<string, Level>();
      for (const r of results) {
        if (r.level === 'safe') continue;
        for (const c of r.categories) {
          const prev = seen.get(c);
          if (prev === undefined || (prev === 'warning' && r.level === 'blocked')) seen.set(c, r.level);
        }
      }
      const m = this.deps.metrics;
      for (const [category, level] of seen) m.categories.inc({ direction: ctx.direction, category, level });
      for (const r of results) if (r.level !== 'safe' && r.details?.['decoded'] === true) m.decodedMatches.inc({ layer: r.name });
    }
    return combined;
  }

  private report(name: string, probe: LayerProbe, r: LayerResult, start: number): ReportedLayerResult {
    const elapsed = performance.now() - start;
    probe.duration.observe(elapsed / 1000);
    probe.verdicts[r.level].inc();
    return {
      name,
      level: r.level,
      categories: r.categories,
      confidence: r.confidence,
      explanation: r.explanation,
      ...(r.details !== undefined ? { details: r.details } : {}),
      latencyMs: Math.round(elapsed * 1000) / 1000,
    };
  }
}

interface LayerProbe {
  readonly duration: { observe(v: number): void };
  readonly verdicts: Readonly<Record<Level, { inc(): void }>>;
}

function isPromiseLike(v: LayerResult | Promise<LayerResult>): v is Promise<LayerResult> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/** A layer that throws is a bug; never let it turn into "safe". */
function layerError(e: unknown): LayerResult {
  return {
    level: 'blocked',
    categories: ['layer_error'],
    confidence: 0,
    explanation: `layer failed unexpectedly: ${e instanceof Error ? e.message : String(e)}`,
  };
}
