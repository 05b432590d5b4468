import type { Config } from '../config.js';
import { DependencyError } from '../errors.js';
import { postJson, probe, readJson } from './http.js';

/**
 * Text Embeddings Inference clients (huggingface/text-embeddings-inference HTTP API):
 *   POST /embed  {inputs, truncate, truncation_direction, normalize} -> number[][]
 *   POST /rerank {query, texts, truncate, truncation_direction, raw_scores, return_text} -> [{index, score}]
 *   GET  /health
 * Truncation: inputs over the model's max tokens are truncated by TEI (truncate: true,
 * from the right), rerank texts are also cut to rerank.maxTextChars before sending, and
 * batches never exceed the configured client batch size (TEI --max-client-batch-size).
 */
export interface Embedder {
  embed(texts: readonly string[]): Promise<number[][]>;
  ping(): Promise<void>;
}

export interface Reranker {
  /** scores in input order */
  rerank(query: string, texts: readonly string[]): Promise<number[]>;
  ping(): Promise<void>;
}

function base(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export class TeiEmbedder implements Embedder {
  private readonly url: string;
  constructor(private readonly config: Config) {
    this.url = base(config.embeddings.url);
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const { batchSize, timeoutMs } = this.config.embeddings;
    const dim = this.config.collections.dim;
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += batchSize) {
      const inputs = texts.slice(i, i + batchSize);
      const res = await postJson(
        'tei-embed',
        `${this.url}/embed`,
        { inputs, truncate: true, truncation_direction: 'Right', normalize: true },
        { timeoutMs, ...(this.config.secrets.teiApiKey !== undefined ? { bearer: this.config.secrets.teiApiKey } : {}) },
      );
      const body = await readJson('tei-embed', res);
      if (!Array.isArray(body) || body.length !== inputs.length) {
        throw new DependencyError('tei-embed', `tei-embed returned ${Array.isArray(body) ? body.length : 'no'} embeddings for ${inputs.length} inputs`, 502);
      }
      for (const v of body as unknown[]) {
        if (!Array.isArray(v) || v.length !== dim) {
          throw new DependencyError('tei-embed', `tei-embed returned a vector of dimension ${Array.isArray(v) ? v.length : '?'}, the collection expects ${dim} (collections.dim must match the embedding model)`, 502);
        }
        out.push(v as number[]);
      }
    }
    return out;
  }

  ping(): Promise<void> {
    return probe('tei-embed', `${this.url}/health`, Math.min(this.config.embeddings.timeoutMs, 2000), this.config.secrets.teiApiKey);
  }
}

export class TeiReranker implements Reranker {
  private readonly url: string;
  constructor(private readonly config: Config) {
    this.url = base(config.rerank.url);
  }

  async rerank(query: string, texts: readonly string[]): Promise<number[]> {
    const { timeoutMs, maxTextChars } = this.config.rerank;
    const batch = this.config.embeddings.batchSize;
    const scores = new Array<number>(texts.length).fill(Number.NaN);
    for (let off = 0; off < texts.length; off += batch) {
      const part = texts.slice(off, off + batch).map((t) => (t.length > maxTextChars ? t.slice(0, maxTextChars) : t));
      const res = await postJson(
        'tei-rerank',
        `${this.url}/rerank`,
        { query: query.slice(0, maxTextChars), texts: part, truncate: true, truncation_direction: 'Right', raw_scores: false, return_text: false },
        { timeoutMs, ...(this.config.secrets.teiApiKey !== undefined ? { bearer: this.config.secrets.teiApiKey } : {}) },
      );
      const body = await readJson('tei-rerank', res);
      if (!Array.isArray(body)) throw new DependencyError('tei-rerank', 'tei-rerank returned a non-array body', 502);
      for (const r of body as Array<{ index?: unknown; score?: unknown }>) {
        if (typeof r.index !== 'number' || typeof r.score !== 'number' || r.index < 0 || r.index >= part.length) {
          throw new DependencyError('tei-rerank', 'tei-rerank returned a malformed rank entry', 502);
        }
        scores[off + r.index] = r.score;
      }
    }
    if (scores.some((s) => Number.isNaN(s))) throw new DependencyError('tei-rerank', 'tei-rerank did not score every text', 502);
    return scores;
  }

  ping(): Promise<void> {
    return probe('tei-rerank', `${this.url}/health`, Math.min(this.config.rerank.timeoutMs, 2000), this.config.secrets.teiApiKey);
  }
}
