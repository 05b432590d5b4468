import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { DependencyError } from '../errors.js';
import type { Dependency } from '../metrics.js';
import { injectHeaders } from '../tracing.js';

/** One keep-alive connection pool for all outbound HTTP (TEI, gateway). */
export const dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });

export interface PostOptions {
  readonly timeoutMs: number;
  readonly bearer?: string;
  readonly signal?: AbortSignal;
}

function describe(e: unknown): string {
  if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError) return 'timed out';
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  return err.code ?? err.cause?.code ?? err.message ?? String(e);
}

/**
 * POST JSON and return the response for the caller to read. Connection errors, timeouts,
 * 429 and 5xx become DependencyError(503); other non-2xx become DependencyError(502) with the
 * dependency's error message.
 */
export async function postJson(dep: Dependency, url: string, body: unknown, opts: PostOptions): Promise<Dispatcher.ResponseData> {
  // a Buffer body with its length: undici sends it in one write (a string body costs ~2x the CPU)
  const payload = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(payload.length) };
  if (opts.bearer !== undefined) headers['authorization'] = `Bearer ${opts.bearer}`;
  injectHeaders(headers);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'POST',
      body: payload,
      headers,
      dispatcher,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    throw new DependencyError(dep, `${dep} unreachable at ${new URL(url).origin}: ${describe(e)}`);
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  let detail = '';
  try {
    detail = (await res.body.text()).slice(0, 500);
  } catch {
    /* ignore */
  }
  const unavailable = res.statusCode === 429 || res.statusCode >= 500;
  const retry = Number(res.headers['retry-after']);
  throw new DependencyError(
    dep,
    `${dep} answered ${res.statusCode}${detail ? `: ${detail}` : ''}`,
    unavailable ? 503 : 502,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
}

export async function readJson(dep: Dependency, res: Dispatcher.ResponseData): Promise<unknown> {
  try {
    return await res.body.json();
  } catch (e) {
    throw new DependencyError(dep, `${dep} sent a malformed response: ${describe(e)}`, 502);
  }
}

/** GET url and succeed on any 2xx (readiness probes). */
export async function probe(dep: Dependency, url: string, timeoutMs: number, bearer?: string): Promise<void> {
  try {
    const res = await request(url, {
      method: 'GET',
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(bearer !== undefined ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
    });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new DependencyError(dep, `${dep} health answered ${res.statusCode}`);
  } catch (e) {
    if (e instanceof DependencyError) throw e;
    throw new DependencyError(dep, `${dep} unreachable at ${new URL(url).origin}: ${describe(e)}`);
  }
}
