import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashEmbed, lexicalRelevance } from './hashEmbedder.js';

/**
 * Loopback fakes that speak the real HTTP APIs:
 *  - TEI (huggingface/text-embeddings-inference): POST /embed, POST /rerank, GET /health,
 *    with TEI's validation errors (413 batch too large, 422 empty input) and `truncate`;
 *  - the LiteLLM gateway's OpenAI-compatible POST /v1/chat/completions, JSON and SSE
 *    (chat.completion.chunk events, usage chunk with stream_options.include_usage, [DONE]),
 *    and GET /health/liveliness; 401 without the expected key.
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

export interface FakeGatewayOptions {
  /** the virtual key the gateway accepts (Authorization: Bearer ...); undefined: any */
  readonly apiKey?: string;
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

export function startFakeGateway(opts: FakeGatewayOptions = {}): Promise<FakeServer> {
  const answerOf = opts.answer ?? extractiveAnswer;
  return makeServer((req, res, body) => {
    if (req.method === 'GET' && req.url === '/health/liveliness') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('"I\'m alive!"');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: 'not found' } });
    if (opts.apiKey !== undefined && req.headers['authorization'] !== `Bearer ${opts.apiKey}`) {
      return json(res, 401, { error: { message: 'Authentication Error, Invalid proxy server token passed.', type: 'auth_error', code: '401' } });
    }
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
}
