import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';

const ROOT = join(import.meta.dirname, '..');

describe('config', () => {
  it('the example file is valid and equals the defaults where it does not change them', () => {
    const c = parseConfig(parse(readFileSync(join(ROOT, 'config/example.yaml'), 'utf8')));
    expect(c.collections.dim).toBe(1024);
    expect(c.retrieval.fusion).toEqual({ kind: 'rrf', k: 60 });
    expect(c.server.shutdownDelayMs).toBe(5000);
    expect(parseConfig({}).milvus.address).toBe(c.milvus.address);
    // callers authenticate with their gateway keys unless a local run turns it off
    expect(c.auth).toEqual({ mode: 'gateway-key', cacheSeconds: 60, negativeCacheSeconds: 5, timeoutMs: 5000, maxCacheEntries: 10000, tenantFrom: 'request' });
    expect(parseConfig({}).auth.mode).toBe('gateway-key');
    expect(c.server.pathPrefix).toBe('/rag');
    expect(() => parseConfig({ auth: { mode: 'none', tenantFrom: 'team_id' } })).toThrow(/auth\.tenantFrom: needs auth\.mode gateway-key/);
    expect(() => parseConfig({ auth: { mode: 'basic' } })).toThrow(/auth\.mode/);
  });

  it('reports every problem with its key path', () => {
    let err: unknown;
    try {
      parseConfig({ chunking: { maxTokens: 100, overlapTokens: 100 }, retrieval: { fusion: { kind: 'weighted', bm25: 0, dense: 0 }, topK: 60 }, gateway: { url: 'ftp://x' }, colections: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('(root): Unrecognized key: "colections"');
    expect(msg).toContain('gateway.url: must be an http(s) URL');
  });

  it('cross-checks once the shape is valid', () => {
    expect(() => parseConfig({ chunking: { maxTokens: 100, overlapTokens: 100 } })).toThrow(/chunking\.overlapTokens: must be smaller than chunking\.maxTokens/);
    expect(() => parseConfig({ retrieval: { fusion: { kind: 'weighted', bm25: 0, dense: 0 } } })).toThrow(/retrieval\.fusion: bm25 and dense weights cannot both be 0/);
    expect(() => parseConfig({ retrieval: { candidates: 500 } })).toThrow(/collections\.hnsw\.ef: must be >= retrieval\.candidates/);
  });

  it('takes secrets and the port from the environment only', () => {
    const c = parseConfig({}, { MILVUS_USERNAME: 'rag', MILVUS_PASSWORD: 'pw', GATEWAY_API_KEY: 'sk-1', PORT: '9000' });
    expect(c.secrets).toEqual({ milvusUsername: 'rag', milvusPassword: 'pw', gatewayApiKey: 'sk-1' });
    expect(c.server.port).toBe(9000);
    expect(() => parseConfig({}, { MILVUS_USERNAME: 'rag' })).toThrow(/MILVUS_USERNAME and MILVUS_PASSWORD must be set together/);
    expect(() => parseConfig({ secrets: {} })).toThrow(/Unrecognized key/);
  });

  it('the OpenAPI document lists every route the service serves', () => {
    const api = parse(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(api.paths).sort()).toEqual(
      ['/health', '/metrics', '/ready', '/v1/answer', '/v1/collections/{collection}/documents', '/v1/collections/{collection}/documents/{docId}', '/v1/search'].sort(),
    );
    expect(Object.keys(api.paths['/v1/collections/{collection}/documents/{docId}'] ?? {}).sort()).toEqual(['delete', 'get']);
  });
});
