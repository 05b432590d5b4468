import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { chunkId, chunkText } from '../src/pipeline/chunker.js';
import { RagPipeline, type SearchHit } from '../src/pipeline/rag.js';
import { installTracing } from '../src/tracing.js';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { DOCS, ingest, startStack, type Stack } from './helpers.js';

const exporter = new InMemorySpanExporter();
beforeAll(async () => {
  await installTracing({ serviceName: 'rag-test', processor: new SimpleSpanProcessor({ exporter }) });
});

describe('chunker', () => {
  const para = (n: number) => `Paragraph ${n} talks about topic ${n}. It has a second sentence with more words about ${n}.`;
  const doc = `# Guide\n\nIntro text.\n\n## Part A\n\n${Array.from({ length: 30 }, (_, i) => para(i)).join('\n\n')}\n\n## Part B\n\nShort part.`;

  it('keeps chunks within the token budget, with overlap, and never across sections', () => {
    const chunks = chunkText(doc, { maxTokens: 80, overlapTokens: 20 });
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(80);
    expect(chunks[0]?.text).toBe('Guide\n\nIntro text.');
    const a = chunks.filter((c) => c.text.startsWith('Guide > Part A\n\n'));
    expect(a.length).toBeGreaterThan(3);
    // consecutive chunks of a section overlap: the next one starts with the tail of the previous
    for (let i = 1; i < a.length; i++) {
      const head = (a[i]?.text.slice('Guide > Part A\n\n'.length).split('\n\n')[0] ?? '').trim();
      expect(head.length).toBeGreaterThan(10);
      expect(countTokens(head)).toBeLessThanOrEqual(20);
      expect(a[i - 1]?.text.trimEnd().endsWith(head)).toBe(true);
    }
    expect(chunks.at(-1)?.text).toBe('Guide > Part B\n\nShort part.');
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  });

  it('cuts a single over-long run of text at token boundaries', () => {
    const long = 'x'.repeat(5000);
    const chunks = chunkText(long, { maxTokens: 100, overlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(countTokens(c.text)).toBeLessThanOrEqual(100);
    expect(chunks.map((c) => c.text).join('')).toBe(long);
  });

  it('derives stable ids from tenant, document and text', () => {
    expect(chunkId('t', 'd', 'hello')).toBe(chunkId('t', 'd', 'hello'));
    expect(chunkId('t', 'd', 'hello')).not.toBe(chunkId('u', 'd', 'hello'));
    expect(chunkId('t', 'd', 'hello')).toMatch(/^d#[0-9a-f]{16}$/);
  });
});

describe('answer prompt', () => {
  const hit = (i: number, text: string, rerankScore = 0.9): SearchHit => ({ chunkId: `d${i}#x`, docId: `d${i}`, chunkIndex: 0, title: `T${i}`, text, metadata: {}, score: 1 / (i + 1), rerankScore });

  it('numbers sources and stops at the context budget, cutting the last one that fits partly', () => {
    const config = parseConfig({ gateway: { contextTokens: 1024, maxAnswerTokens: 256 } });
    const p = new RagPipeline(config, {} as never, {} as never, undefined, {} as never, {} as never);
    const big = 'word '.repeat(300);
    const plan = p.plan('What?', [hit(1, big), hit(2, big), hit(3, big)]);
    expect(plan.sources.map((s) => s.source)).toEqual([1, 2]);
    const user = plan.messages?.[1]?.content ?? '';
    expect(user).toContain('[1] T1 (document d1, chunk 0)');
    expect(user).toContain('[2] T2 (document d2, chunk 0)');
    expect(user).not.toContain('[3]');
    expect(user.endsWith('Question: What?')).toBe(true);
    expect(plan.promptTokens).toBeLessThanOrEqual(1024 - 256);
  });

  it('drops sources under the rerank threshold and reports no context when none is left', () => {
    const config = parseConfig({ rerank: { minScore: 0.5 } });
    const p = new RagPipeline(config, {} as never, {} as never, undefined, {} as never, {} as never);
    expect(p.plan('q', [hit(1, 'a', 0.2)]).messages).toBeNull();
    expect(p.plan('q', [hit(1, 'a', 0.2), hit(2, 'b', 0.6)]).sources.map((s) => s.docId)).toEqual(['d2']);
  });

  it('returns the cited sources in order of first use', () => {
    const sources = [1, 2, 3].map((n) => ({ source: n, docId: `d${n}`, chunkId: `c${n}`, chunkIndex: 0, title: '', score: 1 }));
    expect(RagPipeline.citations('A [2]. B [1][2]. C [9].', sources).map((s) => s.source)).toEqual([2, 1]);
  });
});

describe('streamed ingest, rerank batching, metrics and trace propagation', () => {
  let stack: Stack;
  afterEach(async () => {
    await stack.close();
  });

  it('ingests NDJSON one document at a time with progress, reporting bad lines and continuing', async () => {
    stack = await startStack();
    const lines = [JSON.stringify({ ...DOCS[0], tenant: 'acme' }), '{not json', JSON.stringify({ id: 'x', tenant: 'acme' }), JSON.stringify({ ...DOCS[1], tenant: 'acme' })].join('\n');
    const r = await stack.service.app.inject({ method: 'POST', url: '/v1/collections/docs/documents', payload: lines, headers: { 'content-type': 'application/x-ndjson' } });
    expect(r.statusCode).toBe(200);
    const events = r.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['document', 'progress', 'error', 'error', 'document', 'progress', 'done']);
    expect(events[2]).toMatchObject({ line: 2, error: 'malformed_json' });
    expect(events[3]).toMatchObject({ line: 3, error: 'invalid_document' });
    expect(events[5]).toMatchObject({ documents: 2, failed: 2, chunks: 3 });
    expect(events.at(-1)).toMatchObject({ event: 'done', documents: 2, failed: 2, chunks: 3, complete: true });
  });

  it('stops a stream at a dependency failure, naming it, with complete: false', async () => {
    stack = await startStack();
    await stack.tei.close();
    const r = await stack.service.app.inject({ method: 'POST', url: '/v1/collections/docs/documents', payload: JSON.stringify({ ...DOCS[0], tenant: 'acme' }), headers: { 'content-type': 'application/x-ndjson' } });
    const events = r.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: 'error', id: 'kb-milvus', error: 'dependency_unavailable', dependency: 'tei-embed' });
    expect(events.at(-1)).toMatchObject({ event: 'done', documents: 0, complete: false });
  });

  it('batches /rerank to the client batch size and cuts long texts', async () => {
    stack = await startStack({ rerank: { depth: 40, maxTextChars: 100 }, embeddings: { batchSize: 16 }, chunking: { maxTokens: 40, overlapTokens: 0 } });
    const many = Array.from({ length: 45 }, (_, i) => ({ id: `n${i}`, text: `Note ${i}: milvus backup detail number ${i}. ${'filler text '.repeat(20)}` }));
    await ingest(stack, many);
    const before = stack.tei.requests.length;
    const r = await stack.service.app.inject({ method: 'POST', url: '/v1/search', payload: { tenant: 'acme', query: 'milvus backup detail number 7', topK: 5 } });
    expect(r.statusCode, r.body).toBe(200);
    const rr = stack.tei.requests.slice(before).filter((q) => q.path === '/rerank');
    expect(rr.map((q) => q.body.texts.length)).toEqual([16, 16, 8]);
    expect(rr.every((q) => q.body.texts.every((t: string) => t.length <= 100))).toBe(true);
    expect(r.json().results[0].docId).toBe('n7');
  });

  it('exposes per-stage metrics', async () => {
    stack = await startStack();
    await ingest(stack);
    await stack.service.app.inject({ method: 'POST', url: '/v1/answer', payload: { tenant: 'acme', question: 'When do Milvus backups run?' } });
    const m = (await stack.service.app.inject({ url: '/metrics' })).body;
    for (const stage of ['chunk', 'embed', 'upsert', 'search', 'rerank', 'generate']) {
      expect(m).toMatch(new RegExp(`rag_stage_duration_seconds_count\\{stage="${stage}"\\} [1-9]`));
    }
    expect(m).toMatch(/rag_tokens_total\{kind="prompt"\} [1-9]/);
    expect(m).toContain('rag_answers_total{outcome="answered"} 1');
  });

  it('continues the caller trace: spans per stage, traceparent to TEI and the gateway', async () => {
    stack = await startStack();
    await ingest(stack);
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = { tei: stack.tei.requests.length, gw: stack.gateway.requests.length };
    const r = await stack.service.app.inject({
      method: 'POST',
      url: '/v1/answer',
      payload: { tenant: 'acme', question: 'When do Milvus backups run?' },
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(r.statusCode).toBe(200);
    const spans = exporter.getFinishedSpans();
    const names = spans.map((s) => s.name);
    for (const n of ['POST /v1/answer', 'rag.embed', 'rag.search', 'rag.rerank', 'rag.generate']) expect(names).toContain(n);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    const server = spans.find((s) => s.name === 'POST /v1/answer');
    expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    const outbound = [...stack.tei.requests.slice(before.tei), ...stack.gateway.requests.slice(before.gw)];
    expect(outbound.length).toBeGreaterThanOrEqual(3);
    for (const o of outbound) expect(o.headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });
});
