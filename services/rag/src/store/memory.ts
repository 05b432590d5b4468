import type { Config } from '../config.js';
import { analyze } from './analyzer.js';
import { fuse, type RouteResult } from './fusion.js';
import { matchesFilter } from './schema.js';
import type { ChunkRecord, Hit, SearchQuery, VectorStore } from './types.js';

interface Row {
  readonly rec: ChunkRecord;
  readonly tf: Map<string, number>;
  readonly len: number;
  readonly dense: Float32Array;
  readonly norm: number;
}

interface Collection {
  readonly rows: Map<string, Row>;
  /** term -> number of rows containing it */
  readonly df: Map<string, number>;
  totalLen: number;
}

/**
 * The embedded store: an in-process implementation of the same hybrid semantics as the Milvus
 * collection (BM25 with k1/b on the analyzed text, exact cosine on the dense vector, the same
 * tenant/metadata filter, the same RRF/weighted fusion). Exact search instead of HNSW, so it
 * is the recall ceiling of the ANN index. Used by `npm run rag:local`, the evaluation and the
 * benchmark; holds everything in memory (no persistence).
 */
export class MemoryStore implements VectorStore {
  readonly kind = 'memory' as const;
  private readonly collections = new Map<string, Collection>();
  private readonly k1: number;
  private readonly b: number;
  private readonly dim: number;

  constructor(config: Pick<Config, 'collections'>) {
    this.k1 = config.collections.bm25.k1;
    this.b = config.collections.bm25.b;
    this.dim = config.collections.dim;
  }

  private col(name: string): Collection {
    const c = this.collections.get(name);
    if (c === undefined) throw new Error(`collection ${name} does not exist`);
    return c;
  }

  async ensureCollection(name: string): Promise<'created' | 'exists'> {
    if (this.collections.has(name)) return 'exists';
    this.collections.set(name, { rows: new Map(), df: new Map(), totalLen: 0 });
    return 'created';
  }

  private remove(c: Collection, id: string): boolean {
    const row = c.rows.get(id);
    if (row === undefined) return false;
    c.rows.delete(id);
    c.totalLen -= row.len;
    for (const t of row.tf.keys()) {
      const n = (c.df.get(t) ?? 1) - 1;
      if (n <= 0) c.df.delete(t);
      else c.df.set(t, n);
    }
    return true;
  }

  async upsert(collection: string, chunks: readonly ChunkRecord[]): Promise<void> {
    const c = this.col(collection);
    for (const rec of chunks) {
      if (rec.dense.length !== this.dim) throw new Error(`dense vector has dimension ${rec.dense.length}, the collection ${this.dim}`);
    }
    for (const rec of chunks) {
      this.remove(c, rec.id);
      const terms = analyze(rec.text);
      const tf = new Map<string, number>();
      for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const t of tf.keys()) c.df.set(t, (c.df.get(t) ?? 0) + 1);
      const dense = Float32Array.from(rec.dense);
      let n = 0;
      for (const x of dense) n += x * x;
      c.rows.set(rec.id, { rec: { ...rec, dense: [] }, tf, len: terms.length, dense, norm: Math.sqrt(n) });
      c.totalLen += terms.length;
    }
  }

  async deleteDocument(collection: string, tenant: string, docId: string, keepIds?: readonly string[]): Promise<number> {
    const c = this.col(collection);
    const keep = new Set(keepIds ?? []);
    let n = 0;
    for (const [id, row] of [...c.rows]) {
      if (row.rec.tenant === tenant && row.rec.docId === docId && !keep.has(id) && this.remove(c, id)) n++;
    }
    return n;
  }

  async documentChunkIds(collection: string, tenant: string, docId: string): Promise<string[]> {
    const c = this.col(collection);
    return [...c.rows.values()].filter((r) => r.rec.tenant === tenant && r.rec.docId === docId).map((r) => r.rec.id).sort();
  }

  private bm25(c: Collection, rows: readonly Row[], text: string, limit: number): RouteResult {
    const q = [...new Set(analyze(text))];
    const N = c.rows.size;
    const avg = N > 0 ? c.totalLen / N : 0;
    const idf = q.map((t) => {
      const n = c.df.get(t) ?? 0;
      return Math.log(1 + (N - n + 0.5) / (n + 0.5));
    });
    const scored: Array<{ id: string; s: number }> = [];
    for (const row of rows) {
      let s = 0;
      for (let i = 0; i < q.length; i++) {
        const f = row.tf.get(q[i] as string);
        if (f === undefined) continue;
        s += (idf[i] as number) * ((f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * row.len) / (avg || 1))));
      }
      if (s > 0) scored.push({ id: row.rec.id, s });
    }
    scored.sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
    const top = scored.slice(0, limit);
    return { ids: top.map((x) => x.id), scores: top.map((x) => x.s), metric: 'BM25' };
  }

  private dense(rows: readonly Row[], vector: readonly number[], limit: number): RouteResult {
    let qn = 0;
    for (const x of vector) qn += x * x;
    qn = Math.sqrt(qn) || 1;
    const scored: Array<{ id: string; s: number }> = [];
    for (const row of rows) {
      let dot = 0;
      const d = row.dense;
      for (let i = 0; i < d.length; i++) dot += (d[i] as number) * (vector[i] as number);
      scored.push({ id: row.rec.id, s: dot / (qn * (row.norm || 1)) });
    }
    scored.sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
    const top = scored.slice(0, limit);
    return { ids: top.map((x) => x.id), scores: top.map((x) => x.s), metric: 'COSINE' };
  }

  async search(q: SearchQuery): Promise<Hit[]> {
    const c = this.col(q.collection);
    if (q.mode !== 'bm25' && (q.vector === undefined || q.vector.length !== this.dim)) {
      throw new Error(`query vector has dimension ${q.vector?.length ?? 0}, the collection ${this.dim}`);
    }
    const rows = [...c.rows.values()].filter((r) => matchesFilter(q.filter, r.rec.tenant, r.rec.docId, r.rec.metadata));
    let ranked: Array<{ id: string; score: number }>;
    if (q.mode === 'bm25') {
      const r = this.bm25(c, rows, q.text, q.limit);
      ranked = r.ids.map((id, i) => ({ id, score: r.scores[i] as number }));
    } else if (q.mode === 'dense') {
      const r = this.dense(rows, q.vector as number[], q.limit);
      ranked = r.ids.map((id, i) => ({ id, score: r.scores[i] as number }));
    } else {
      const routes = [this.bm25(c, rows, q.text, q.candidates), this.dense(rows, q.vector as number[], q.candidates)] as const;
      ranked = fuse(routes, q.fusion, q.limit);
    }
    return ranked.map(({ id, score }) => {
      const r = (c.rows.get(id) as Row).rec;
      return { id, docId: r.docId, chunkIndex: r.chunkIndex, text: r.text, title: r.title, metadata: r.metadata, score };
    });
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}

  /** Rows in a collection (tests, local tooling). */
  size(collection: string): number {
    return this.col(collection).rows.size;
  }
}
