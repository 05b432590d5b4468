export interface BackoffOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Injectable randomness in [0, 1). */
  readonly random?: () => number;
}

/**
 * "Full jitter" exponential backoff: a uniformly random delay in
 * [0, min(maxDelayMs, baseDelayMs * 2^retryIndex)], retryIndex starting at 0.
 */
export function backoffDelay(retryIndex: number, opts: BackoffOptions): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retryIndex);
  const r = (opts.random ?? Math.random)();
  return Math.floor(cap * r);
}

export function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

/** Parse an HTTP Retry-After header (seconds or HTTP date) into ms, or undefined. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}
