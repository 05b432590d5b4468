import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashEmbed, lexicalRelevance } from './hashEmbedder.js';

/**
 * Loopback fakes that speak the real HTTP APIs:
 *  - TEI (huggingface/text-embeddings-inference): POST /embed, POST /rerank, GET /health,
 *    with TEI's validation errors (413 batch too large, 422 empty input) and `truncate`;
 *  - the LiteLLM gateway's OpenAI-compatible POST /v1/chat/completions, JSON and SSE
 *    (chat.completion.chunk events, usage chunk with stream_options.include_usage, [DONE]),
 *    GET /health/liveliness, and GET /key/info (a key's own info, as LiteLLM's `info_key_fn`
 *    answers a non-admin key: 200 for a known key, LiteLLM's 401 auth error otherwise);
 *    401 on chat without an accepted key; it records which key each chat call used.
 * Used by the tests, `npm run rag:local` and the benchmark (0 ms by default).
 */
export interface Recorded {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: any;
}

export interface FakeServer {
  readonly url: string;
  readonly requests: Recorded[];
  /** artificial latency per request, ms */
  delayMs: number;
  /** answer every request with this status (and a TEI/OpenAI-shaped error body) */
  failWith: number | undefined;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res, rej) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => res(Buffer.concat(parts).toString('utf8')));
    req.on('error', rej);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

async function listen(server: Server, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const a = server.address() as AddressInfo;
  return `http://${host}:${a.port}`;
}

function makeServer(handle: (req: IncomingMessage, res: ServerResponse, body: any, fake: FakeServer) => void | Promise<void>, opts: { record?: boolean }): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const fake: FakeServer = {
    url: '',
    requests,
    delayMs: 0,
    failWith: undefined,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    void (async () => {
      const raw = req.method === 'POST' ? await readBody(req) : '';
      let body: any = undefined;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          json(res, 422, { error: 'Failed to deserialize the JSON body', error_type: 'Validation' });
          return;
        }
      }
      if (opts.record !== false) requests.push({ path: req.url ?? '', headers: req.headers, body });
      if (fake.delayMs > 0) await new Promise((r) => setTimeout(r, fake.delayMs));
      if (fake.failWith !== undefined) {
        json(res, fake.failWith, { error: `fake failure ${fake.failWith}`, error_type: 'Backend' });
        return;
      }
      await handle(req, res, body, fake);
    })().catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(e) });
    });
  });
  server.keepAliveTimeout = 60_000;
  return listen(server).then((url) => Object.assign(fake, { url }));
}

export interface FakeTeiOptions {
  readonly dim: number;
  readonly maxBatch?: number;
  /** tokens (whitespace words here) over which a non-truncated input is refused with 413 */
  readonly maxInputWords?: number;
  readonly record?: boolean;
  /** memoise responses by request body (the benchmark: keeps the fake's CPU out of the measurement) */
  readonly cache?: boolean;
}

export function startFakeTei(opts: FakeTeiOptions): Promise<FakeServer> {
  const memo = new Map<string, string>();
  const cached = (res: ServerResponse, key: string, make: () => unknown): void => {
    let s = opts.cache === true ? memo.get(key) : undefined;
    if (s === undefined) {
      s = JSON.stringify(make());
      if (opts.cache === true && memo.size < 100_000) memo.set(key, s);
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
    res.end(s);
  };
  const maxBatch = opts.maxBatch ?? 32;
  const maxWords = opts.maxInputWords ?? 512;
  const tooLong = (s: string): boolean => s.split(/\s+/).length > maxWords;
  return makeServer((req, res, body) => {
    if (req.method === 'GET' && req.url === '/health') return json(res, 200, {});
    if (req.method === 'POST' && req.url === '/embed') {
      const inputs: string[] = typeof body?.inputs === 'string' ? [body.inputs] : body?.inputs;
      if (!Array.isArray(inputs) || inputs.length === 0) return json(res, 422, { error: 'Input validation error: `inputs` cannot be empty', error_type: 'Validation' });
      if (inputs.length > maxBatch) return json(res, 413, { error: `batch size ${inputs.length} > maximum allowed batch size ${maxBatch}`, error_type: 'Validation' });
      if (body.truncate !== true && inputs.some(tooLong)) return json(res, 413, { error: `Input validation error: inputs must have less than ${maxWords} tokens`, error_type: 'Validation' });
      return cached(res, `e\0${inputs.join('\0')}`, () => inputs.map((t) => hashEmbed(t, opts.dim)));
    }
    if (req.method === 'POST' && req.url === '/rerank') {
      const texts: string[] = body?.texts;
      if (typeof body?.query !== 'string' || !Array.isArray(texts) || texts.length === 0) return json(res, 422, { error: 'Input validation error: `texts` cannot be empty', error_type: 'Validation' });
      if (texts.length > maxBatch) return json(res, 413, { error: `batch size ${texts.length} > maximum allowed batch size ${maxBatch}`, error_type: 'Validation' });
      if (body.truncate !== true && texts.some((t) => tooLong(`${body.query} ${t}`))) return json(res, 413, { error: `Input validation error: inputs must have less than ${maxWords} tokens`, error_type: 'Validation' });
      return cached(res, `r\0${body.query}\0${texts.join('\0')}`, () =>
        texts.map((t, index) => ({ index, score: lexicalRelevance(body.query, t) })).sort((a, b) => b.score - a.score),
      );
    }
    return json(res, 404, { error: 'not found' });
  }, { record: opts.record ?? true });
}

/** What the fake knows of a virtual key (LiteLLM_VerificationToken columns that /key/info returns). */
export interface FakeKey {
  readonly team_id?: string | null;
  readonly user_id?: string | null;
  readonly key_alias?: string | null;
  readonly max_budget?: number | null;
  readonly rpm_limit?: number | null;
}

export interface FakeGatewayOptions {
  /** the virtual key the gateway accepts (Authorization: Bearer ...); undefined (and no `keys`): any */
  readonly apiKey?: string;
  /** further virtual keys (callers' keys): accepted by chat and known to GET /key/info */
  readonly keys?: Readonly<Record<string, FakeKey>>;
  readonly record?: boolean;
  /** the answer text; default: an extractive answer citing source [1] */
  readonly answer?: (prompt: string) => string;
}

/** Default fake answer: the first sentence of source [1], cited. */
export function extractiveAnswer(prompt: string): string {
  const m = /^\[1\][^\n]*\n([\s\S]*?)(?:\n\n\[2\]|\n\nQuestion:)/m.exec(prompt);
  const lines = (m?.[1] ?? '').split('\n').filter((l) => l.trim().length > 0);
  // skip the chunk's heading-path line (e.g. "Guide > Section") when there is body text
  const bodyLine = lines.length > 1 && !/[.!?]/.test(lines[0] ?? '') ? lines[1] : lines[0];
  const first = (bodyLine ?? '').split(/(?<=[.!?])\s/)[0]?.trim() ?? '';
  return first.length > 0 ? `${first} [1]` : 'I cannot answer from the provided documents.';
}

export interface FakeGateway extends FakeServer {
  /** the bearer key of each chat completion call, in order (null: none sent) */
  readonly chatKeys: Array<string | null>;
  /** GET /key/info calls answered */
  keyInfoCalls: number;
}

const AUTH_ERROR = { error: { message: 'Authentication Error, Invalid proxy server token passed. Unable to find token in cache or `LiteLLM_VerificationTokenTable`', type: 'auth_error', param: 'None', code: '401' } };

export function startFakeGateway(opts: FakeGatewayOptions = {}): Promise<FakeGateway> {
  const answerOf = opts.answer ?? extractiveAnswer;
  const keys = opts.keys ?? {};
  const chatKeys: Array<string | null> = [];
  const bearer = (req: IncomingMessage): string | null => /^Bearer (\S+)$/.exec(req.headers['authorization'] ?? '')?.[1] ?? null;
  const accepted = (k: string | null): boolean =>
    opts.apiKey === undefined && opts.keys === undefined ? true : k !== null && (k === opts.apiKey || Object.hasOwn(keys, k));
  const server = makeServer((req, res, body, fake) => {
    if (req.method === 'GET' && req.url === '/health/liveliness') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('"I\'m alive!"');
      return;
    }
    if (req.method === 'GET' && (req.url === '/key/info' || req.url?.startsWith('/key/info?'))) {
      (fake as FakeGateway).keyInfoCalls++;
      const k = bearer(req);
      const known = k !== null ? keys[k] : undefined;
      if (k === null || known === undefined) return json(res, 401, AUTH_ERROR);
      // LiteLLM's info_key_fn: {"key": <the key it looked up>, "info": <the token row without "token">}
      return json(res, 200, {
        key: createHash('sha256').update(k).digest('hex'),
        info: {
          key_name: `sk-...${k.slice(-4)}`,
          key_alias: known.key_alias ?? null,
          spend: 0,
          max_budget: known.max_budget ?? null,
          expires: null,
          models: [],
          aliases: {},
          config: {},
          user_id: known.user_id ?? null,
          team_id: known.team_id ?? null,
          max_parallel_requests: null,
          metadata: {},
          tpm_limit: null,
          rpm_limit: known.rpm_limit ?? null,
          budget_duration: null,
          blocked: null,
          created_at: '2026-01-01T00:00:00Z',
          litellm_budget_table: null,
        },
      });
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: 'not found' } });
    chatKeys.push(bearer(req));
    if (!accepted(bearer(req))) return json(res, 401, AUTH_ERROR);
    const messages: Array<{ role: string; content: string }> = body?.messages ?? [];
    const prompt = messages.map((m) => m.content).join('\n');
    const text = answerOf(prompt);
    const usage = { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: Math.ceil(text.length / 4), total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = 'chatcmpl-fake';
    const created = Math.floor(Date.now() / 1000);
    if (body?.stream !== true) {
      return json(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body?.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const ev = (o: unknown): boolean => res.write(`data: ${JSON.stringify(o)}\n\n`);
    const base = { id, object: 'chat.completion.chunk', created, model: body?.model };
    ev({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    for (const piece of text.match(/\S+\s*/g) ?? []) ev({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    ev({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (body?.stream_options?.include_usage === true) ev({ ...base, choices: [], usage });
    res.end('data: [DONE]\n\n');
  }, { record: opts.record ?? true });
  return server.then((s) => Object.assign(s, { chatKeys, keyInfoCalls: 0 }));
}
