import type { Fusion } from '../config.js';

/** One chunk as stored (the dense vector is omitted on read). */
export interface ChunkRecord {
  /** primary key: `${docId}#${chunkHash}` */
  readonly id: string;
  readonly docId: string;
  readonly tenant: string;
  readonly chunkIndex: number;
  readonly text: string;
  readonly title: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly dense: readonly number[];
}

export type ScalarValue = string | number | boolean;
export type MetadataCondition =
  | ScalarValue
  | { readonly in: readonly ScalarValue[] }
  | { readonly gt?: number; readonly gte?: number; readonly lt?: number; readonly lte?: number };

/** A structured filter, translated to a Milvus boolean expression or evaluated in memory. */
export interface Filter {
  readonly tenant: string;
  readonly docIds?: readonly string[];
  readonly metadata?: Readonly<Record<string, MetadataCondition>>;
}

export type RetrievalMode = 'hybrid' | 'bm25' | 'dense';

export interface SearchQuery {
  readonly collection: string;
  readonly text: string;
  /** query embedding; required for 'hybrid' and 'dense' */
  readonly vector?: readonly number[];
  readonly filter: Filter;
  /** candidates per route before fusion */
  readonly candidates: number;
  /** results after fusion */
  readonly limit: number;
  readonly fusion: Fusion;
  readonly mode: RetrievalMode;
}

export interface Hit {
  readonly id: string;
  readonly docId: string;
  readonly chunkIndex: number;
  readonly text: string;
  readonly title: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** fused score (RRF or weighted), or the route's own score for a single mode */
  readonly score: number;
}

export interface VectorStore {
  readonly kind: 'milvus' | 'memory';
  /** Create the collection (fields, BM25 function, indexes, partition key) if absent, verify it if present, load it. */
  ensureCollection(name: string): Promise<'created' | 'exists'>;
  upsert(collection: string, chunks: readonly ChunkRecord[]): Promise<void>;
  /** Delete a document's chunks; with keepIds, only those NOT in keepIds (stale chunks after a re-ingest). Returns the ids removed when known. */
  deleteDocument(collection: string, tenant: string, docId: string, keepIds?: readonly string[]): Promise<number | undefined>;
  /** Ids of a document's chunks. */
  documentChunkIds(collection: string, tenant: string, docId: string): Promise<string[]>;
  search(q: SearchQuery): Promise<Hit[]>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class SchemaMismatchError extends Error {
  override readonly name = 'SchemaMismatchError';
}
