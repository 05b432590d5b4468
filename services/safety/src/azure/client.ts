import { CircuitBreaker, type Permit } from '../resilience/breaker.js';
import { backoffDelay, parseRetryAfter, sleep as defaultSleep } from '../resilience/retry.js';

/** The four harm categories of Azure AI Content Safety text:analyze. */
export const AZURE_TEXT_CATEGORIES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;
export type AzureTextCategory = (typeof AZURE_TEXT_CATEGORIES)[number];

export type AzureFailureKind = 'timeout' | 'network' | 'http' | 'malformed' | 'circuit_open';

export class AzureCallError extends Error {
  override readonly name = 'AzureCallError';
  constructor(
    readonly kind: AzureFailureKind,
    message: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface AzureBlocklistMatch {
  readonly blocklistName: string;
  readonly blocklistItemId: string;
}

export interface AzureAnalysis {
  /** Severity per requested category. */
  readonly severities: Readonly<Record<AzureTextCategory, number>>;
  readonly blocklistMatches: readonly AzureBlocklistMatch[];
  readonly attempts: number;
}

/** Hooks for metrics. `attempt` is called once per HTTP attempt. */
export interface AzureObserver {
  attempt(outcome: 'success' | Exclude<AzureFailureKind, 'circuit_open'>, status?: number): void;
  rejectedByBreaker(): void;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface AzureClientOptions {
  readonly endpoint: string;
  readonly key: string;
  readonly apiVersion: string;
  readonly outputType: 'FourSeverityLevels' | 'EightSeverityLevels';
  readonly blocklistNames: readonly string[];
  readonly haltOnBlocklistHit: boolean;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly breaker: CircuitBreaker;
  readonly observer?: AzureObserver;
  readonly fetch?: FetchLike;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface AttemptFailure {
  readonly kind: Exclude<AzureFailureKind, 'circuit_open'>;
  readonly message: string;
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validate a text:analyze response body (api-version 2024-09-01):
 *   { "blocklistsMatch"?: [{blocklistName, blocklistItemId, blocklistItemText}],
 *     "categoriesAnalysis": [{ "category": "Hate", "severity": 0 }, ...] }
 * Stricter than the spec on purpose (fail closed): every requested category must be
 * present with an integer severity in 0..7.
 */
export function parseAnalyzeResponse(body: unknown): Omit<AzureAnalysis, 'attempts'> | string {
  if (!isRecord(body)) return 'response body is not a JSON object';
  const ca = body['categoriesAnalysis'];
  if (!Array.isArray(ca)) return 'categoriesAnalysis is missing or not an array';
  const severities: Partial<Record<AzureTextCategory, number>> = {};
  for (const item of ca) {
    if (!isRecord(item) || typeof item['category'] !== 'string') return 'categoriesAnalysis item without a category';
    const sev = item['severity'];
    if (typeof sev !== 'number' || !Number.isInteger(sev) || sev < 0 || sev > 7) {
      return `severity of ${item['category']} is missing or not an integer 0..7`;
    }
    if ((AZURE_TEXT_CATEGORIES as readonly string[]).includes(item['category'])) {
      severities[item['category'] as AzureTextCategory] = sev;
    }
  }
  for (const c of AZURE_TEXT_CATEGORIES) {
    if (severities[c] === undefined) return `category ${c} missing from categoriesAnalysis`;
  }
  const matches: AzureBlocklistMatch[] = [];
  const bm = body['blocklistsMatch'];
  if (bm !== undefined && bm !== null) {
    if (!Array.isArray(bm)) return 'blocklistsMatch is not an array';
    for (const m of bm) {
      if (!isRecord(m) || typeof m['blocklistName'] !== 'string') return 'blocklistsMatch item without blocklistName';
      matches.push({
        blocklistName: m['blocklistName'],
        blocklistItemId: typeof m['blocklistItemId'] === 'string' ? m['blocklistItemId'] : '',
      });
    }
  }
  return { severities: severities as Record<AzureTextCategory, number>, blocklistMatches: matches };
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
}

/**
 * Minimal client for POST {endpoint}/contentsafety/text:analyze?api-version=...
 * with a per-attempt timeout, bounded retries with full-jitter exponential backoff
 * and a circuit breaker around each logical call.
 */
export class AzureContentSafetyClient {
  private readonly url: string;
  private readonly fetchImpl: FetchLike;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: AzureClientOptions) {
    const base = opts.endpoint.replace(/\/+$/, '');
    this.url = `${base}/contentsafety/text:analyze?api-version=${encodeURIComponent(opts.apiVersion)}`;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = opts.sleep ?? defaultSleep;
  }

  get breaker(): CircuitBreaker {
    return this.opts.breaker;
  }

  async analyzeText(text: string): Promise<AzureAnalysis> {
    const permit: Permit = this.opts.breaker.tryAcquire();
    if (permit === 'rejected') {
      this.opts.observer?.rejectedByBreaker();
      throw new AzureCallError('circuit_open', 'circuit breaker is open; Azure not called', 0);
    }
    // A half-open probe gets exactly one attempt.
    const maxAttempts = permit === 'probe' ? 1 : 1 + this.opts.maxRetries;
    const body = JSON.stringify({
      text,
      categories: AZURE_TEXT_CATEGORIES,
      blocklistNames: this.opts.blocklistNames,
      haltOnBlocklistHit: this.opts.haltOnBlocklistHit,
      outputType: this.opts.outputType,
    });

    let last: AttemptFailure | undefined;
    let attemptsMade = 0;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      attemptsMade = attempt;
      const outcome = await this.attempt(body);
      if (!('kind' in outcome)) {
        this.opts.observer?.attempt('success');
        this.opts.breaker.onSuccess(permit);
        return { ...outcome, attempts: attempt };
      }
      last = outcome;
      this.opts.observer?.attempt(outcome.kind, outcome.status);
      if (!outcome.retryable || attempt === maxAttempts) break;
      let delay = backoffDelay(attempt - 1, {
        baseDelayMs: this.opts.baseDelayMs,
        maxDelayMs: this.opts.maxDelayMs,
        ...(this.opts.random ? { random: this.opts.random } : {}),
      });
      if (outcome.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(outcome.retryAfterMs, this.opts.maxDelayMs));
      await this.sleep(delay);
    }
    this.opts.breaker.onFailure(permit);
    const f = last as AttemptFailure;
    throw new AzureCallError(f.kind, f.message, attemptsMade, f.status);
  }

  private async attempt(body: string): Promise<Omit<AzureAnalysis, 'attempts'> | AttemptFailure> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          'Ocp-Apim-Subscription-Key': this.opts.key,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (e) {
      if (isTimeout(e)) return { kind: 'timeout', message: `no response within ${this.opts.timeoutMs} ms`, retryable: true };
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      return { kind: 'network', message: `${e instanceof Error ? e.message : String(e)}${cause}`, retryable: true };
    }

    if (!res.ok) {
      try {
        await res.arrayBuffer();
      } catch {
        // ignore: we only drain the body to free the connection
      }
      const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      return {
        kind: 'http',
        status: res.status,
        message: `HTTP ${res.status}`,
        retryable,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }

    let json: unknown;
    try {
      json = await res.json();
    } catch (e) {
      if (isTimeout(e)) return { kind: 'timeout', message: `response body not received within ${this.opts.timeoutMs} ms`, retryable: true };
      if (e instanceof SyntaxError) return { kind: 'malformed', message: 'response body is not JSON', retryable: false };
      return { kind: 'network', message: `reading response body failed: ${e instanceof Error ? e.message : String(e)}`, retryable: true };
    }
    const parsed = parseAnalyzeResponse(json);
    if (typeof parsed === 'string') return { kind: 'malformed', message: parsed, retryable: false };
    return parsed;
  }
}
