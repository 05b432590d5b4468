import { afterAll, afterEach, beforeAll } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createService, type Service, type ServiceDeps } from '../src/app.js';
import { resolveConfig, type Config } from '../src/config.js';

export const TEST_KEY = 'test-subscription-key-123';

/** Resolve a raw config (as if read from the file) with test env. */
export function makeConfig(raw: Record<string, unknown>, env: Record<string, string | undefined> = {}): Config {
  return resolveConfig(raw, { AZURE_CONTENT_SAFETY_KEY: TEST_KEY, ...env });
}

export interface Running {
  readonly service: Service;
  readonly base: string;
  readonly logs: string[];
  close(): Promise<void>;
}

/** Start the service on 127.0.0.1:0 with a logger whose output is captured in `logs`. */
export async function startService(
  raw: Record<string, unknown>,
  deps: Omit<ServiceDeps, 'logger'> = {},
  env: Record<string, string | undefined> = {},
): Promise<Running> {
  const config = makeConfig(
    {
      ...raw,
      server: { host: '127.0.0.1', port: 0, ...((raw['server'] as Record<string, unknown> | undefined) ?? {}) },
    },
    env,
  );
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.length > 0) logs.push(line);
      cb();
    },
  });
  const logger = pino({ level: config.logging.level }, sink);
  const service = createService(config, { defaultMetrics: false, ...deps, logger });
  const { port } = await service.start();
  return {
    service,
    base: `http://127.0.0.1:${port}`,
    logs,
    close: () => service.shutdown(),
  };
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

export async function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return postRaw(base, path, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
}

export async function postRaw(base: string, path: string, body: string, headers: Record<string, string>): Promise<JsonResponse> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`non-JSON response ${res.status}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, json };
}

export async function getJson(base: string, path: string): Promise<JsonResponse> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

/** A port on 127.0.0.1 with nothing listening (connection refused). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

// ---------------------------------------------------------------------------
// Fake Azure AI Content Safety (text:analyze, api-version 2024-09-01) on loopback
// ---------------------------------------------------------------------------

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
  /** The raw request body as received. */
  readonly raw: string;
  /** Client port of the connection the request came on. */
  readonly remotePort: number;
}

export type FakeAction =
  | { readonly kind: 'analyze' } // answer from severity markers in the text, e.g. "[Hate:4]"
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> }
  | { readonly kind: 'raw'; readonly status: number; readonly body: string }
  | { readonly kind: 'delay'; readonly ms: number; readonly then: FakeAction }
  | { readonly kind: 'destroy' }
  /** Block this process's event loop for `ms` (a CPU-starved service), then act. */
  | { readonly kind: 'busy'; readonly ms: number; readonly then: FakeAction };

export const CATEGORIES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;

/** Severities from markers like "[Hate:4]" / "[SelfHarm:2]" in the text (default 0). */
export function analyzeMarkers(text: string): { categoriesAnalysis: Array<{ category: string; severity: number }>; blocklistsMatch: unknown[] } {
  const sev: Record<string, number> = { Hate: 0, SelfHarm: 0, Sexual: 0, Violence: 0 };
  for (const m of text.matchAll(/\[(Hate|SelfHarm|Sexual|Violence):(\d)\]/g)) sev[m[1] as string] = Number(m[2]);
  const blocklistsMatch = text.includes('[blocklist:custom1]')
    ? [{ blocklistName: 'custom1', blocklistItemId: 'id-1', blocklistItemText: 'x' }]
    : [];
  return { blocklistsMatch, categoriesAnalysis: CATEGORIES.map((category) => ({ category, severity: sev[category] as number })) };
}

export class FakeAzure {
  readonly requests: RecordedRequest[] = [];
  /** Decide the action for the n-th request (0-based). Default: analyze. */
  behavior: (n: number, req: RecordedRequest) => FakeAction = () => ({ kind: 'analyze' });
  private server: Server | undefined;
  private port = 0;
  /** Connections open right now, and the most ever open at once. */
  openConnections = 0;
  maxOpenConnections = 0;
  totalConnections = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get count(): number {
    return this.requests.length;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (sock) => {
      this.openConnections++;
      this.totalConnections++;
      this.maxOpenConnections = Math.max(this.maxOpenConnections, this.openConnections);
      sock.on('close', () => {
        this.openConnections--;
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body: Record<string, unknown> = {};
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        raw,
        remotePort: req.socket.remotePort ?? 0,
      };
      const n = this.requests.length;
      this.requests.push(rec);
      this.act(this.behavior(n, rec), rec, res);
    });
  }

  private act(action: FakeAction, rec: RecordedRequest, res: ServerResponse): void {
    if (res.destroyed) return;
    switch (action.kind) {
      case 'analyze':
        this.send(res, 200, JSON.stringify(analyzeMarkers(String(rec.body['text'] ?? ''))));
        return;
      case 'json':
        this.send(res, action.status, JSON.stringify(action.body), action.headers);
        return;
      case 'raw':
        this.send(res, action.status, action.body);
        return;
      case 'delay': {
        const t = setTimeout(() => this.act(action.then, rec, res), action.ms);
        res.on('close', () => clearTimeout(t));
        return;
      }
      case 'destroy':
        res.socket?.destroy();
        return;
      case 'busy': {
        const until = performance.now() + action.ms;
        while (performance.now() < until) {
          // spin: nothing else in this process runs meanwhile
        }
        this.act(action.then, rec, res);
        return;
      }
    }
  }

  private send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  }
}

/** Config for a service using the fake Azure with fast retries (no real waiting). */
export function azureConfig(endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    enabled: true,
    endpoint,
    timeoutMs: 1000, // generous: a loaded CI machine must not turn a normal answer into a timeout
    starvationLagMs: 60_000, // and a loaded machine must not look starved (the starvation test sets its own)
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
    circuitBreaker: { failureThreshold: 3, cooldownMs: 1000 },
    ...extra,
  };
}

/** A manually advanced clock for the circuit breaker. */
export class ManualClock {
  t = 1_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function layerOf(json: Record<string, unknown>, name: string): Record<string, unknown> {
  const layers = json['layers'] as Array<Record<string, unknown>>;
  const l = layers.find((x) => x['name'] === name);
  if (!l) throw new Error(`layer ${name} not in ${JSON.stringify(layers.map((x) => x['name']))}`);
  return l;
}

/** Parse a Prometheus text exposition into "name{labels}" -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/**
 * Registers a fake Azure for the current test file or describe block: started before its tests,
 * stopped after them. After each test, every service passed to `track` is closed and the fake's
 * requests and behaviour are reset.
 */
export function useFakeAzure(): { fake: FakeAzure; track(r: Running): Running } {
  const fake = new FakeAzure();
  const open: Running[] = [];
  beforeAll(async () => {
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
    fake.requests.length = 0;
    fake.maxOpenConnections = fake.openConnections;
    fake.totalConnections = 0;
    fake.behavior = () => ({ kind: 'analyze' });
  });
  return {
    fake,
    track(r: Running): Running {
      open.push(r);
      return r;
    },
  };
}
