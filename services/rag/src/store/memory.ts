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
  /** term -> rows containing it (BM25 postings) */
  readonly postings: Map<string, Set<Row>>;
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
    this.collections.set(name, { rows: new Map(), postings: new Map(), df: new Map(), totalLen: 0 });
    return 'created';
  }

  private remove(c: Collection, id: string): boolean {
    const row = c.rows.get(id);
    if (row === undefined) return false;
    c.rows.delete(id);
    c.totalLen -= row.len;
    for (const t of row.tf.keys()) {
      c.postings.get(t)?.delete(row);
      if (c.postings.get(t)?.size === 0) c.postings.delete(t);
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
      const row: Row = { rec: { ...rec, dense: [] }, tf, len: terms.length, dense, norm: Math.sqrt(n) };
      c.rows.set(rec.id, row);
      for (const t of tf.keys()) {
        let set = c.postings.get(t);
        if (set === undefined) c.postings.set(t, (set = new Set()));
        set.add(row);
      }
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

  private bm25(c: Collection, allowed: (r: Row) => boolean, text: string, limit: number): RouteResult {
    const q = [...new Set(analyze(text))];
    const N = c.rows.size;
    const avg = N > 0 ? c.totalLen / N : 0;
    const idf = q.map((t) => {
      const n = c.df.get(t) ?? 0;
      return Math.log(1 + (N - n + 0.5) / (n + 0.5));
    });
    // only rows containing a query term can score: walk the postings
    const acc = new Map<Row, number>();
    for (let i = 0; i < q.length; i++) {
      const post = c.postings.get(q[i] as string);
      if (post === undefined) continue;
      for (const row of post) {
        const f = row.tf.get(q[i] as string) as number;
        const s = (idf[i] as number) * ((f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * row.len) / (avg || 1))));
        acc.set(row, (acc.get(row) ?? 0) + s);
      }
    }
    const scored: Array<{ id: string; s: number }> = [];
    for (const [row, s] of acc) if (s > 0 && allowed(row)) scored.push({ id: row.rec.id, s });
    scored.sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
    const top = scored.slice(0, limit);
    return { ids: top.map((x) => x.id), scores: top.map((x) => x.s), metric: 'BM25' };
  }

  private dense(rows: readonly Row[], vector: readonly number[], limit: number): RouteResult {
    const n = this.dim;
    const v = new Float32Array(n);
    let qn = 0;
    for (let i = 0; i < n; i++) {
      const x = vector[i] as number;
      v[i] = x;
      qn += x * x;
    }
    qn = Math.sqrt(qn) || 1;
    const scores = new Float64Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as Row;
      const d = row.dense;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let i = 0;
      for (; i + 3 < n; i += 4) {
        a0 += (d[i] as number) * (v[i] as number);
        a1 += (d[i + 1] as number) * (v[i + 1] as number);
        a2 += (d[i + 2] as number) * (v[i + 2] as number);
        a3 += (d[i + 3] as number) * (v[i + 3] as number);
      }
      for (; i < n; i++) a0 += (d[i] as number) * (v[i] as number);
      scores[r] = (a0 + a1 + a2 + a3) / (qn * (row.norm || 1));
    }
    // top `limit` by score (ties by id), without sorting every row
    const order: number[] = [];
    for (let r = 0; r < rows.length; r++) {
      const s = scores[r] as number;
      if (order.length === limit && s < (scores[order[order.length - 1] as number] as number)) continue;
      order.push(r);
      order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || ((rows[a] as Row).rec.id < (rows[b] as Row).rec.id ? -1 : 1));
      if (order.length > limit) order.pop();
    }
    return { ids: order.map((r) => (rows[r] as Row).rec.id), scores: order.map((r) => scores[r] as number), metric: 'COSINE' };
  }

  async search(q: SearchQuery): Promise<Hit[]> {
    const c = this.col(q.collection);
    if (q.mode !== 'bm25' && (q.vector === undefined || q.vector.length !== this.dim)) {
      throw new Error(`query vector has dimension ${q.vector?.length ?? 0}, the collection ${this.dim}`);
    }
    const allowed = (r: Row): boolean => matchesFilter(q.filter, r.rec.tenant, r.rec.docId, r.rec.metadata);
    const rows = q.mode === 'bm25' ? [] : [...c.rows.values()].filter(allowed);
    let ranked: Array<{ id: string; score: number }>;
    if (q.mode === 'bm25') {
      const r = this.bm25(c, allowed, q.text, q.limit);
      ranked = r.ids.map((id, i) => ({ id, score: r.scores[i] as number }));
    } else if (q.mode === 'dense') {
      const r = this.dense(rows, q.vector as number[], q.limit);
      ranked = r.ids.map((id, i) => ({ id, score: r.scores[i] as number }));
    } else {
      const routes = [this.bm25(c, allowed, q.text, q.candidates), this.dense(rows, q.vector as number[], q.candidates)] as const;
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
