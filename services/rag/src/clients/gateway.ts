import type { Config } from '../config.js';
import { DependencyError } from '../errors.js';
import { postJson, probe, readJson } from './http.js';

/**
 * The chat model, always through the LiteLLM gateway's OpenAI-compatible
 * POST /v1/chat/completions (never straight to vLLM: keys, budgets, limits and guardrails
 * apply). Non-streaming and streaming (SSE, `data: {chunk}` lines ending with `data: [DONE]`).
 */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

export interface ChatResult {
  readonly content: string;
  readonly model: string;
  readonly finishReason: string | null;
  readonly usage?: Usage;
}

export type ChatEvent = { type: 'delta'; content: string } | { type: 'done'; finishReason: string | null; usage?: Usage; model: string };

export interface ChatModel {
  complete(messages: readonly ChatMessage[], opts?: { apiKey?: string; signal?: AbortSignal }): Promise<ChatResult>;
  stream(messages: readonly ChatMessage[], opts?: { apiKey?: string; signal?: AbortSignal }): AsyncGenerator<ChatEvent>;
  ping(): Promise<void>;
}

function base(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** Incremental SSE parser: feed text, get the `data:` payloads of complete events. */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  feed(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length > 0) out.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // comments (":") and other fields (event, id, retry) are ignored
    }
    return out;
  }
}

export class GatewayChat implements ChatModel {
  private readonly url: string;
  constructor(private readonly config: Config) {
    this.url = base(config.gateway.url);
  }

  private body(messages: readonly ChatMessage[], stream: boolean): Record<string, unknown> {
    const g = this.config.gateway;
    return {
      model: g.model,
      messages,
      max_tokens: g.maxAnswerTokens,
      temperature: g.temperature,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    };
  }

  private key(apiKey?: string): string | undefined {
    return apiKey ?? this.config.secrets.gatewayApiKey;
  }

  async complete(messages: readonly ChatMessage[], opts: { apiKey?: string; signal?: AbortSignal } = {}): Promise<ChatResult> {
    const key = this.key(opts.apiKey);
    const res = await postJson('gateway', `${this.url}/v1/chat/completions`, this.body(messages, false), {
      timeoutMs: this.config.gateway.timeoutMs,
      ...(key !== undefined ? { bearer: key } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    const body = (await readJson('gateway', res)) as {
      model?: string;
      choices?: Array<{ message?: { content?: string | null }; finish_reason?: string | null }>;
      usage?: Usage;
    };
    const choice = body.choices?.[0];
    if (choice === undefined) throw new DependencyError('gateway', 'gateway returned no choices', 502);
    return {
      content: choice.message?.content ?? '',
      model: body.model ?? this.config.gateway.model,
      finishReason: choice.finish_reason ?? null,
      ...(body.usage !== undefined ? { usage: body.usage } : {}),
    };
  }

  async *stream(messages: readonly ChatMessage[], opts: { apiKey?: string; signal?: AbortSignal } = {}): AsyncGenerator<ChatEvent> {
    const key = this.key(opts.apiKey);
    const res = await postJson('gateway', `${this.url}/v1/chat/completions`, this.body(messages, true), {
      timeoutMs: this.config.gateway.timeoutMs,
      ...(key !== undefined ? { bearer: key } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    const parser = new SseParser();
    let finishReason: string | null = null;
    let usage: Usage | undefined;
    let model = this.config.gateway.model;
    let done = false;
    res.body.setEncoding('utf8');
    try {
      for await (const text of res.body as AsyncIterable<string>) {
        for (const payload of parser.feed(text)) {
          if (payload === '[DONE]') {
            done = true;
            continue;
          }
          let chunk: {
            model?: string;
            choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
            usage?: Usage | null;
            error?: { message?: string };
          };
          try {
            chunk = JSON.parse(payload) as typeof chunk;
          } catch {
            throw new DependencyError('gateway', 'gateway sent a malformed SSE chunk', 502);
          }
          if (chunk.error !== undefined) throw new DependencyError('gateway', `gateway stream error: ${chunk.error.message ?? 'unknown'}`, 502);
          if (chunk.model !== undefined) model = chunk.model;
          if (chunk.usage) usage = chunk.usage;
          const c = chunk.choices?.[0];
          if (c?.finish_reason) finishReason = c.finish_reason;
          const content = c?.delta?.content;
          if (typeof content === 'string' && content.length > 0) yield { type: 'delta', content };
        }
      }
    } catch (e) {
      if (e instanceof DependencyError) throw e;
      throw new DependencyError('gateway', `gateway stream broke: ${(e as Error).message}`);
    }
    if (!done && finishReason === null) throw new DependencyError('gateway', 'gateway stream ended before [DONE]');
    yield { type: 'done', finishReason, model, ...(usage !== undefined ? { usage } : {}) };
  }

  ping(): Promise<void> {
    return probe('gateway', `${this.url}/health/liveliness`, 2000);
  }
}
