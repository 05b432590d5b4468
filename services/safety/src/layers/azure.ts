import { AZURE_TEXT_CATEGORIES, AzureCallError, type AzureContentSafetyClient, type AzureTextCategory } from '../azure/client.js';
import type { FileConfig } from '../config.js';
import { OverloadedError } from '../resilience/admission.js';
import type { CheckContext, Direction, Layer, LayerResult } from '../types.js';

type FailureMode = FileConfig['failureMode'];

export interface AzureLayerOptions {
  readonly appliesTo: readonly Direction[];
  readonly thresholds: Readonly<Record<AzureTextCategory, number>>;
  readonly warnAtOrAbove: number;
  readonly failureMode: FailureMode;
  /** Azure accepts at most 10k characters (code points) per call; longer texts are split. */
  readonly maxCharsPerCall: number;
  /** Chunks of one text analysed concurrently (the rest wait), so one long text cannot take every slot. */
  readonly chunkConcurrency: number;
}

/** Split into chunks of at most `size` Unicode code points (never splitting a surrogate pair). */
export function chunkByCodePoints(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const chunks: string[] = [];
  let current = '';
  let n = 0;
  for (const ch of text) {
    current += ch;
    n++;
    if (n === size) {
      chunks.push(current);
      current = '';
      n = 0;
    }
  }
  if (n > 0) chunks.push(current);
  return chunks;
}

/**
 * Azure AI Content Safety text:analyze as a layer.
 *
 * Verdict: a category whose severity is >= its threshold blocks; otherwise any
 * severity >= warnAtOrAbove gives a warning; a hit on a configured Azure blocklist
 * blocks. When Azure cannot give an answer (timeout, network error, HTTP error,
 * malformed response, or the circuit breaker is open) the layer reports according
 * to `failureMode`: `closed` -> blocked, `open-with-warning` -> warning. Either way
 * the category `azure_unavailable` and the failure kind are reported.
 */
export class AzureContentSafetyLayer implements Layer {
  readonly name = 'azure_content_safety';
  readonly appliesTo: ReadonlySet<Direction>;

  constructor(
    private readonly client: AzureContentSafetyClient,
    private readonly opts: AzureLayerOptions,
  ) {
    this.appliesTo = new Set(opts.appliesTo);
  }

  async check(text: string, _ctx: CheckContext): Promise<LayerResult> {
    if (text.trim().length === 0) {
      return { level: 'safe', categories: [], confidence: 0.9, explanation: 'Empty text; Azure not called' };
    }
    const chunks = chunkByCodePoints(text, this.opts.maxCharsPerCall);
    const severities: Record<AzureTextCategory, number> = { Hate: 0, SelfHarm: 0, Sexual: 0, Violence: 0 };
    const blocklists = new Set<string>();
    let attempts = 0;
    try {
      const results = await mapLimit(chunks, this.opts.chunkConcurrency, (c) => this.client.analyzeText(c));
      for (const r of results) {
        attempts += r.attempts;
        for (const c of AZURE_TEXT_CATEGORIES) severities[c] = Math.max(severities[c], r.severities[c]);
        for (const m of r.blocklistMatches) blocklists.add(m.blocklistName);
      }
    } catch (e) {
      // Shed load is not an Azure failure: the engine turns it into 503 + Retry-After.
      if (e instanceof OverloadedError) throw e;
      return this.failure(e);
    }

    const details = { severities, chunks: chunks.length, attempts };
    const blocked: string[] = [];
    let maxSeverity = 0;
    for (const c of AZURE_TEXT_CATEGORIES) {
      const s = severities[c];
      maxSeverity = Math.max(maxSeverity, s);
      if (s >= this.opts.thresholds[c]) blocked.push(c);
    }
    for (const b of blocklists) blocked.push(`azure_blocklist:${b}`);

    if (blocked.length > 0) {
      const why = blocked
        .map((c) =>
          c.startsWith('azure_blocklist:')
            ? `${c} hit`
            : `${c} severity ${severities[c as AzureTextCategory]} >= threshold ${this.opts.thresholds[c as AzureTextCategory]}`,
        )
        .join(', ');
      return { level: 'blocked', categories: blocked, confidence: 0.9, explanation: `Content blocked: ${why}`, details };
    }
    if (maxSeverity >= this.opts.warnAtOrAbove) {
      const flagged = AZURE_TEXT_CATEGORIES.filter((c) => severities[c] >= this.opts.warnAtOrAbove);
      return {
        level: 'warning',
        categories: flagged,
        confidence: 0.7,
        explanation: `Content flagged for review: ${flagged.map((c) => `${c} severity ${severities[c]}`).join(', ')}`,
        details,
      };
    }
    return { level: 'safe', categories: [], confidence: 0.9, explanation: 'Content passed Azure Content Safety', details };
  }

  private failure(e: unknown): LayerResult {
    const kind = e instanceof AzureCallError ? e.kind : 'network';
    const message = e instanceof Error ? e.message : String(e);
    const attempts = e instanceof AzureCallError ? e.attempts : 0;
    const status = e instanceof AzureCallError ? e.status : undefined;
    const closed = this.opts.failureMode === 'closed';
    return {
      level: closed ? 'blocked' : 'warning',
      categories: ['azure_unavailable'],
      confidence: 0,
      explanation: `Azure Content Safety unavailable (${kind}: ${message}); ${closed ? 'failing closed' : 'failing open with a warning'}`,
      details: { failureKind: kind, attempts, ...(status !== undefined ? { status } : {}), failureMode: this.opts.failureMode },
    };
  }
}

/** Map with at most `limit` calls in flight; rejects on the first failure (no new calls start after it). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (items.length === 1) return [await fn(items[0] as T)];
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const workers: Array<Promise<void>> = [];
  for (let k = 0; k < Math.min(limit, items.length); k++) workers.push(worker());
  await Promise.all(workers);
  return out;
}
