import type { Dependency } from './metrics.js';

/** A dependency failed or is unreachable: answered 503 naming it (or 502 when it rejected our request). */
export class DependencyError extends Error {
  override readonly name = 'DependencyError';
  constructor(
    readonly dependency: Dependency,
    message: string,
    /** 503: unavailable (connect, timeout, 5xx, 429); 502: it answered but rejected or garbled the request */
    readonly status: 502 | 503 = 503,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Bad input found after schema validation (e.g. an unknown collection). */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
