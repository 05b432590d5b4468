import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { isAllowedEndpoint } from '../endpoint.js';
import { Admission, OverloadedError } from '../resilience/admission.js';
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
  shed?(reason: OverloadedError['reason']): void;
}

export interface AzureClientOptions {
  readonly endpoint: string;
  readonly key: string;
  readonly apiVersion: string;
  readonly outputType: 'FourSeverityLevels' | 'EightSeverityLevels';
  readonly blocklistNames: readonly string[];
  readonly haltOnBlocklistHit: boolean;
  /** Per attempt, from the moment the request is dispatched (admission queueing is not included). */
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly breaker: CircuitBreaker;
  /** Bounds concurrent Azure calls (and the queue in front of them). */
  readonly admission: Admission;
  /** Size of the keep-alive connection pool to the Azure endpoint. */
  readonly maxConnections: number;
  /** Timer lateness (ms) beyond which a timeout is blamed on this process, not on Azure (default timeoutMs / 2). */
  readonly starvationLagMs?: number;
  /** Larger response bodies are not read: the answer is treated as malformed (fail closed). */
  readonly maxResponseBytes: number;
  readonly observer?: AzureObserver;
  /** Tests may inject a dispatcher; by default an undici Pool on the endpoint's origin. */
  readonly dispatcher?: Dispatcher;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface AttemptFailure {
  readonly kind: Exclude<AzureFailureKind, 'circuit_open'>;
  readonly message: string;
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /** The attempt timed out only because this process was starved (event loop lagging). */
  readonly starved?: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const FOUR_LEVELS: ReadonlySet<number> = new Set([0, 2, 4, 6]);

/**
 * Validate a text:analyze response body (api-version 2024-09-01):
 *   { "blocklistsMatch"?: [{blocklistName, blocklistItemId, blocklistItemText}],
 *     "categoriesAnalysis": [{ "category": "Hate", "severity": 0 }, ...] }
 * Strict on purpose (fail closed): every requested category must be present with an
 * integer severity in 0..7 (one of 0/2/4/6 for FourSeverityLevels), a category we did
 * not request is an error, and a category that appears twice counts at its HIGHEST
 * severity (never "the last one wins"). Unknown top-level fields are ignored.
 */
export function parseAnalyzeResponse(
  body: unknown,
  outputType: 'FourSeverityLevels' | 'EightSeverityLevels' = 'EightSeverityLevels',
): Omit<AzureAnalysis, 'attempts'> | string {
  if (!isRecord(body)) return 'response body is not a JSON object';
  const ca = body['categoriesAnalysis'];
  if (!Array.isArray(ca)) return 'categoriesAnalysis is missing or not an array';
  const severities: Partial<Record<AzureTextCategory, number>> = {};
  for (const item of ca) {
    if (!isRecord(item) || typeof item['category'] !== 'string') return 'categoriesAnalysis item without a category';
    const category = item['category'];
    if (!(AZURE_TEXT_CATEGORIES as readonly string[]).includes(category)) return `unexpected category ${JSON.stringify(category.slice(0, 64))}`;
    const sev = item['severity'];
    if (typeof sev !== 'number' || !Number.isInteger(sev) || sev < 0 || sev > 7) {
      return `severity of ${category} is missing or not an integer 0..7`;
    }
    if (outputType === 'FourSeverityLevels' && !FOUR_LEVELS.has(sev)) return `severity ${sev} of ${category} is not one of 0, 2, 4, 6 (FourSeverityLevels)`;
    const prev = severities[category as AzureTextCategory];
    severities[category as AzureTextCategory] = prev === undefined ? sev : Math.max(prev, sev);
  }
  for (const c of AZURE_TEXT_CATEGORIES) {
    if (severities[c] === undefined) return `category ${c} missing from categoriesAnalysis`;
  }
  const matches: AzureBlocklistMatch[] = [];
  const bm = body['blocklistsMatch'];
  if (bm !== undefined && bm !== null) {
    if (!Array.isArray(bm)) return 'blocklistsMatch is not an array';
    for (const m of bm) {
      if (!isRecord(m) || typeof m['blocklistName'] !== 'string' || m['blocklistName'] === '') return 'blocklistsMatch item without blocklistName';
      const id = m['blocklistItemId'];
      if (id !== undefined && typeof id !== 'string') return 'blocklistsMatch item with a non-string blocklistItemId';
      matches.push({ blocklistName: m['blocklistName'], blocklistItemId: id ?? '' });
    }
  }
  return { severities: severities as Record<AzureTextCategory, number>, blocklistMatches: matches };
}

/** True for the failures that say something about Azure's health (and so count toward the breaker). */
export function countsTowardBreaker(f: { kind: AzureFailureKind; status?: number | undefined; starved?: boolean | undefined }): boolean {
  if (f.starved === true) return false;
  if (f.kind === 'timeout' || f.kind === 'network') return true;
  if (f.kind === 'http' && f.status !== undefined) return f.status === 408 || f.status === 429 || f.status >= 500;
  return false;
}

/**
 * The abort signal of one attempt, as undici accepts it (an EventTarget-like object): cheaper
 * than an AbortController per attempt, which costs 20-35 µs of CPU with undici's listener
 * bookkeeping. It has no `aborted` property on purpose: undici then uses addEventListener
 * instead of Node's native abort-listener helper (which requires a real AbortSignal).
 */
class AttemptSignal {
  private listener: (() => void) | undefined;
  /** Whether the timer fired (deliberately not called `aborted`, see above). */
  fired = false;
  reason: Error | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', _listener: () => void): void {
    this.listener = undefined;
  }

  abort(): void {
    if (this.fired) return;
    this.fired = true;
    this.reason = new Error('attempt timed out');
    this.reason.name = 'TimeoutError';
    const l = this.listener;
    this.listener = undefined;
    l?.();
  }
}

/**
 * Client for POST {endpoint}/contentsafety/text:analyze?api-version=...
 *
 * - One undici Pool per endpoint: at most `maxConnections` keep-alive connections.
 *   Redirects are never followed (undici's request does not follow them; a 3xx is an
 *   HTTP failure, so the key and the text never go to another origin).
 * - Admission: a bounded number of calls in flight, a short queue with a deadline;
 *   excess load is shed with OverloadedError (503 upstream), not turned into timeouts.
 * - A per-attempt timeout that starts when the attempt is dispatched. A timeout whose
 *   timer itself fired late (the event loop was starved) is not blamed on Azure: it
 *   sheds the request and does not count toward the breaker.
 * - Bounded retries with full-jitter backoff on 408/429/5xx/timeouts/network errors,
 *   and a circuit breaker that only those failures feed.
 */
export class AzureContentSafetyClient {
  private readonly path: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly headers: Record<string, string>;
  /** Timer lateness beyond which a timeout is attributed to this process, not to Azure. */
  private readonly starvationMs: number;

  constructor(private readonly opts: AzureClientOptions) {
    if (!isAllowedEndpoint(opts.endpoint)) throw new Error('the Azure endpoint must be an https:// URL (http only for loopback)');
    const u = new URL(opts.endpoint);
    const basePath = u.pathname.replace(/\/+$/, '');
    this.path = `${basePath}/contentsafety/text:analyze?api-version=${encodeURIComponent(opts.apiVersion)}`;
    if (opts.dispatcher) {
      this.dispatcher = opts.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = new Pool(u.origin, {
        connections: opts.maxConnections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connectTimeout: Math.max(opts.timeoutMs, 1_000),
      });
      this.ownsDispatcher = true;
    }
    this.sleep = opts.sleep ?? defaultSleep;
    this.headers = {
      'ocp-apim-subscription-key': opts.key,
      'content-type': 'application/json',
      accept: 'application/json',
    };
    this.starvationMs = opts.starvationLagMs ?? Math.max(25, Math.floor(opts.timeoutMs / 2));
  }

  get breaker(): CircuitBreaker {
    return this.opts.breaker;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /**
   * Analyze one text (<= 10k code points). Throws AzureCallError when Azure gives no
   * usable answer, OverloadedError when the call was shed (Azure not blamed).
   */
  async analyzeText(text: string): Promise<AzureAnalysis> {
    const wait = this.opts.admission.acquire();
    if (wait !== undefined) {
      try {
        await wait;
      } catch (e) {
        if (e instanceof OverloadedError) this.opts.observer?.shed?.(e.reason);
        throw e;
      }
    }
    try {
      return await this.call(text);
    } finally {
      this.opts.admission.release();
    }
  }

  private async call(text: string): Promise<AzureAnalysis> {
    const breaker = this.opts.breaker;
    const permit: Permit = breaker.tryAcquire();
    if (permit === 'rejected') {
      this.opts.observer?.rejectedByBreaker();
      throw new AzureCallError('circuit_open', 'circuit breaker is open; Azure not called', 0);
    }
    // A half-open probe gets exactly one attempt.
    const maxAttempts = permit === 'probe' ? 1 : 1 + this.opts.maxRetries;
    const body = JSON.stringify({
      // Lone surrogates would be sent as \udXXX escapes, which are not valid Unicode text.
      text: text.toWellFormed(),
      categories: AZURE_TEXT_CATEGORIES,
      blocklistNames: this.opts.blocklistNames,
      haltOnBlocklistHit: this.opts.haltOnBlocklistHit,
      outputType: this.opts.outputType,
    });

    let last: AttemptFailure | undefined;
    let attemptsMade = 0;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      attemptsMade = attempt;
      let outcome: Omit<AzureAnalysis, 'attempts'> | AttemptFailure;
      try {
        outcome = await this.attempt(body);
      } catch (e) {
        breaker.onNeutral(permit);
        throw e;
      }
      if (!('kind' in outcome)) {
        this.opts.observer?.attempt('success');
        breaker.onSuccess(permit);
        return { ...outcome, attempts: attempt };
      }
      last = outcome;
      this.opts.observer?.attempt(outcome.kind, outcome.status);
      if (outcome.starved === true) {
        // Our own event loop was too busy to hear Azure's answer in time: shed, do not blame Azure.
        breaker.onNeutral(permit);
        this.opts.observer?.shed?.('starved');
        throw new OverloadedError('starved', 1);
      }
      if (!outcome.retryable || attempt === maxAttempts) break;
      let delay = backoffDelay(attempt - 1, {
        baseDelayMs: this.opts.baseDelayMs,
        maxDelayMs: this.opts.maxDelayMs,
        ...(this.opts.random ? { random: this.opts.random } : {}),
      });
      if (outcome.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(outcome.retryAfterMs, this.opts.maxDelayMs));
      await this.sleep(delay);
    }
    const f = last as AttemptFailure;
    if (countsTowardBreaker(f)) breaker.onFailure(permit);
    else breaker.onNeutral(permit);
    throw new AzureCallError(f.kind, f.message, attemptsMade, f.status);
  }

  private async attempt(body: string): Promise<Omit<AzureAnalysis, 'attempts'> | AttemptFailure> {
    const timeoutMs = this.opts.timeoutMs;
    const ac = new AttemptSignal();
    const t0 = performance.now();
    let lateMs = -1;
    const timer = setTimeout(() => {
      lateMs = performance.now() - t0 - timeoutMs;
      ac.abort();
    }, timeoutMs);
    const timeOutFailure = (): AttemptFailure => timedOut('no response');
    const timedOut = (what: string): AttemptFailure => ({
      kind: 'timeout',
      message: `${what} within ${timeoutMs} ms`,
      retryable: true,
      ...(lateMs > this.starvationMs ? { starved: true } : {}),
    });
    try {
      let res: Dispatcher.ResponseData;
      try {
        res = await this.dispatcher.request({
          path: this.path,
          method: 'POST',
          headers: this.headers,
          body,
          signal: ac,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        } as unknown as Dispatcher.RequestOptions);
      } catch (e) {
        if (ac.fired) return timeOutFailure();
        const err = e as { code?: string; message?: string };
        if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_CONNECT_TIMEOUT') return timedOut('no response');
        return { kind: 'network', message: `${err.code ?? 'error'}: ${err.message ?? String(e)}`, retryable: true };
      }

      const status = res.statusCode;
      if (status < 200 || status >= 300) {
        res.body.resume(); // drain and free the connection (a redirect is never followed)
        res.body.on('error', () => undefined);
        const retryable = status === 408 || status === 429 || status >= 500;
        const ra = res.headers['retry-after'];
        const retryAfterMs = parseRetryAfter(typeof ra === 'string' ? ra : null);
        return {
          kind: 'http',
          status,
          message: `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`,
          retryable,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
      }
      const max = this.opts.maxResponseBytes;
      const cl = Number(res.headers['content-length']);
      if (Number.isFinite(cl) && cl > max) {
        res.body.destroy();
        return { kind: 'malformed', message: `response body of ${cl} bytes is over the limit of ${max}`, retryable: false };
      }
      const ct = res.headers['content-type'];
      if (typeof ct !== 'string' || !/^application\/json\b/i.test(ct)) {
        res.body.destroy();
        return { kind: 'malformed', message: 'response is not application/json', retryable: false };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > max) {
            res.body.destroy();
            return { kind: 'malformed', message: `response body is over the limit of ${max} bytes`, retryable: false };
          }
          chunks.push(chunk);
        }
      } catch (e) {
        if (ac.fired) return timedOut('response body not received');
        const err = e as { code?: string; message?: string };
        if (err.code === 'UND_ERR_BODY_TIMEOUT') return timedOut('response body not received');
        return { kind: 'network', message: `reading response body failed: ${err.message ?? String(e)}`, retryable: true };
      }
      let json: unknown;
      try {
        json = JSON.parse(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      } catch {
        return { kind: 'malformed', message: 'response body is not JSON', retryable: false };
      }
      const parsed = parseAnalyzeResponse(json, this.opts.outputType);
      if (typeof parsed === 'string') return { kind: 'malformed', message: parsed, retryable: false };
      return parsed;
    } finally {
      clearTimeout(timer);
    }
  }
}
