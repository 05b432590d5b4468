import { createHash } from 'node:crypto';
import { errors as undiciErrors, request } from 'undici';
import { dispatcher } from './clients/http.js';
import type { Config } from './config.js';
import { DependencyError, InputError } from './errors.js';
import type { Metrics } from './metrics.js';

/**
 * Caller authentication with the gateway's own keys (auth.mode: gateway-key).
 *
 * Clients reach the service on the gateway host's /rag route (the ALB sends /rag/* here, not
 * through LiteLLM: LiteLLM pass-through endpoints with `auth: true` need an Enterprise licence).
 * So the service checks each caller's LiteLLM key itself, by asking the gateway with that key:
 *
 *   GET {gateway.url}/key/info        Authorization: Bearer <caller's key>
 *
 * LiteLLM (litellm/proxy/management_endpoints/key_management_endpoints.py, `info_key_fn`,
 * route `@router.get("/key/info", dependencies=[Depends(user_api_key_auth)])`): the route runs
 * `user_api_key_auth` first (unknown, expired, blocked or over-budget keys are refused there
 * with 401/400/403), and "if no key is passed, it will use the Key Passed in Authorization
 * Header" (`key = key or user_api_key_dict.api_key`), so a non-admin key may read its own
 * info; the answer is `{"key": ..., "info": {team_id, user_id, key_alias, models, spend,
 * max_budget, ...}}` with the hashed token removed.
 *
 * 2xx: accepted (cached for auth.cacheSeconds); 4xx other than 429: refused (cached for
 * auth.negativeCacheSeconds) and answered 401; no answer, timeout, 429 or 5xx: 503 naming the
 * gateway (fail closed, not cached). The cache is keyed by SHA-256 of the key; the key itself
 * is never logged, stored in the cache or put in a metric label. Concurrent checks of one key
 * share one gateway call.
 */
export interface KeyIdentity {
  readonly teamId?: string;
  readonly userId?: string;
  readonly keyAlias?: string;
}

export interface Caller {
  /** the caller's key, for the answer's chat call through the gateway (lives for the request only) */
  readonly apiKey: string;
  readonly identity: KeyIdentity;
}

type Entry = { readonly expires: number; readonly ok: true; readonly identity: KeyIdentity } | { readonly expires: number; readonly ok: false; readonly status: number };

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export class GatewayKeyAuth {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();
  private readonly url: string;

  constructor(
    private readonly config: Config,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    const base = config.gateway.url.endsWith('/') ? config.gateway.url.slice(0, -1) : config.gateway.url;
    this.url = `${base}/key/info`;
  }

  /** The caller of a request, or an error: InputError(401) or DependencyError('gateway', 503). */
  async authenticate(authorization: string | string[] | undefined): Promise<Caller> {
    const m = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
    const apiKey = m?.[1];
    if (apiKey === undefined) {
      this.metrics.authRequests.inc({ outcome: 'missing_key' });
      throw new InputError(401, 'missing_api_key', 'an API key is required: send your LiteLLM gateway key as "Authorization: Bearer <key>"');
    }
    const id = createHash('sha256').update(apiKey).digest('hex');
    let entry: Entry;
    try {
      entry = await this.lookup(id, apiKey);
    } catch (e) {
      this.metrics.authRequests.inc({ outcome: 'gateway_unavailable' });
      throw e;
    }
    if (!entry.ok) {
      this.metrics.authRequests.inc({ outcome: 'invalid_key' });
      throw new InputError(401, 'invalid_api_key', `the gateway refused this API key (${entry.status}): it is unknown, expired, blocked or over its budget`);
    }
    this.metrics.authRequests.inc({ outcome: 'ok' });
    return { apiKey, identity: entry.identity };
  }

  private lookup(id: string, apiKey: string): Promise<Entry> {
    const now = this.now();
    const hit = this.cache.get(id);
    if (hit !== undefined && hit.expires > now) return Promise.resolve(hit);
    if (hit !== undefined) this.cache.delete(id);
    let p = this.inflight.get(id);
    if (p === undefined) {
      p = this.ask(apiKey).then(
        (e) => {
          this.inflight.delete(id);
          if (e.expires > this.now()) {
            if (this.cache.size >= this.config.auth.maxCacheEntries) {
              const oldest = this.cache.keys().next().value;
              if (oldest !== undefined) this.cache.delete(oldest);
            }
            this.cache.set(id, e);
          }
          return e;
        },
        (err: unknown) => {
          this.inflight.delete(id);
          throw err;
        },
      );
      this.inflight.set(id, p);
    }
    return p;
  }

  private async ask(apiKey: string): Promise<Entry> {
    const { timeoutMs, cacheSeconds, negativeCacheSeconds } = this.config.auth;
    const origin = new URL(this.url).origin;
    let status: number;
    let body: unknown;
    try {
      const res = await request(this.url, {
        method: 'GET',
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      if (status >= 200 && status < 300) {
        try {
          body = await res.body.json();
        } catch {
          body = undefined;
        }
      } else {
        await res.body.dump();
      }
    } catch (e) {
      this.metrics.authLookups.inc({ result: 'unavailable' });
      const why =
        e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError || (e as Error).name === 'TimeoutError'
          ? 'timed out'
          : ((e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
      throw new DependencyError('gateway', `gateway unreachable at ${origin} while validating the API key: ${why}`);
    }
    if (status >= 200 && status < 300) {
      this.metrics.authLookups.inc({ result: 'accepted' });
      const info = (body as { info?: Record<string, unknown> } | undefined)?.info ?? {};
      const identity: KeyIdentity = {
        ...(str(info['team_id']) !== undefined ? { teamId: str(info['team_id']) } : {}),
        ...(str(info['user_id']) !== undefined ? { userId: str(info['user_id']) } : {}),
        ...(str(info['key_alias']) !== undefined ? { keyAlias: str(info['key_alias']) } : {}),
      };
      return { ok: true, identity, expires: this.now() + cacheSeconds * 1000 };
    }
    if (status === 429 || status >= 500 || status < 400) {
      this.metrics.authLookups.inc({ result: 'unavailable' });
      throw new DependencyError('gateway', `gateway answered ${status} while validating the API key at ${origin}/key/info`);
    }
    this.metrics.authLookups.inc({ result: 'rejected' });
    return { ok: false, status, expires: this.now() + negativeCacheSeconds * 1000 };
  }
}
