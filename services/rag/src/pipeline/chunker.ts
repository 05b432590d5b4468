import { createHash } from 'node:crypto';
import { countTokens, decode, encode } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * Token-aware chunking with overlap.
 *
 * Tokens are counted with gpt-tokenizer's o200k_base encoding: the chat model's (gpt-oss uses
 * o200k_harmony, which is o200k_base plus special tokens), so the answer's context budget is
 * exact. The embedding model (bge, WordPiece) counts differently; chunking.maxTokens is kept
 * well below its 512-token limit and TEI truncates anything over.
 *
 * The splitter is recursive, like LangChain's RecursiveCharacterTextSplitter but aware of
 * markdown: a document is cut into sections at headings (a chunk never spans two sections;
 * each chunk of a section starts with its heading path), sections into paragraphs, then lines,
 * then sentences, then words, and only a single over-long "word" is cut at token boundaries.
 * Pieces are packed greedily up to maxTokens; each new chunk starts with the trailing pieces
 * of the previous one, up to overlapTokens.
 */
export interface ChunkOptions {
  readonly maxTokens: number;
  readonly overlapTokens: number;
}

export interface Chunk {
  readonly index: number;
  readonly text: string;
  readonly tokens: number;
}

const SEPARATORS = ['\n\n', '\n', '. ', '? ', '! ', '; ', ', ', ' '];

function tokensOf(s: string): number {
  return countTokens(s);
}

function hardSplit(text: string, max: number): string[] {
  const ids = encode(text);
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += max) out.push(decode(ids.slice(i, i + max)));
  return out;
}

/** Split text into pieces of at most max tokens, keeping separators attached to the left piece. */
function splitRecursive(text: string, max: number, level = 0): string[] {
  if (tokensOf(text) <= max) return [text];
  const sep = SEPARATORS[level];
  if (sep === undefined) return hardSplit(text, max);
  const parts = text.split(sep);
  const pieces: string[] = [];
  parts.forEach((p, i) => {
    const withSep = i < parts.length - 1 ? p + sep : p;
    if (withSep.length === 0) return;
    if (tokensOf(withSep) <= max) pieces.push(withSep);
    else pieces.push(...splitRecursive(withSep, max, level + 1));
  });
  return pieces;
}

interface Section {
  readonly heading: string;
  readonly body: string;
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;

/** Markdown sections (fenced code blocks are not scanned for headings). */
function sections(text: string): Section[] {
  const out: Section[] = [];
  const path: string[] = [];
  let body: string[] = [];
  let heading = '';
  let inFence = false;
  const flush = (): void => {
    const b = body.join('\n').trim();
    if (b.length > 0) out.push({ heading, body: b });
    body = [];
  };
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const m = inFence ? null : HEADING.exec(line);
    if (m !== null) {
      flush();
      const level = (m[1] as string).length;
      path.length = level - 1;
      path[level - 1] = (m[2] as string).trim();
      heading = path.filter((x) => x !== undefined && x.length > 0).join(' > ');
      continue;
    }
    body.push(line);
  }
  flush();
  return out;
}

export function chunkText(text: string, opts: ChunkOptions): Chunk[] {
  const chunks: Chunk[] = [];
  for (const sec of sections(text)) {
    const prefix = sec.heading.length > 0 ? `${sec.heading}\n\n` : '';
    const prefixTokens = prefix.length > 0 ? tokensOf(prefix) : 0;
    // leave room for the heading prefix; never less than a quarter of the budget
    const budget = Math.max(Math.floor(opts.maxTokens / 4), opts.maxTokens - prefixTokens);
    const overlap = Math.min(opts.overlapTokens, Math.floor(budget / 2));
    const pieces = splitRecursive(sec.body, budget).map((p) => ({ text: p, tokens: tokensOf(p) }));
    let cur: Array<{ text: string; tokens: number }> = [];
    let curTokens = 0;
    const emit = (): void => {
      const body = cur.map((p) => p.text).join('').trim();
      if (body.length === 0) return;
      const t = prefix + body;
      chunks.push({ index: chunks.length, text: t, tokens: tokensOf(t) });
    };
    for (const p of pieces) {
      if (curTokens + p.tokens > budget && cur.length > 0) {
        emit();
        // carry the trailing pieces (up to `overlap` tokens) into the next chunk; when the
        // last piece alone is longer than that, carry the tail words of it instead
        const carry: typeof cur = [];
        let carried = 0;
        for (let i = cur.length - 1; i >= 0; i--) {
          const q = cur[i] as { text: string; tokens: number };
          if (carried + q.tokens > overlap || carried + q.tokens + p.tokens > budget) break;
          carry.unshift(q);
          carried += q.tokens;
        }
        if (carry.length === 0 && overlap > 0) {
          const words = (cur[cur.length - 1] as { text: string }).text.trimEnd().split(' ');
          let tail = '';
          for (let i = words.length - 1; i >= 0; i--) {
            const next = `${words[i] as string}${tail.length > 0 ? ' ' : ''}${tail}`;
            if (tokensOf(next) > overlap) break;
            tail = next;
          }
          const t = tail.length > 0 ? tokensOf(tail) : 0;
          if (t > 0 && t + p.tokens <= budget) {
            carry.push({ text: `${tail}\n\n`, tokens: t });
            carried = t;
          }
        }
        cur = carry;
        curTokens = carried;
      }
      cur.push(p);
      curTokens += p.tokens;
    }
    emit();
  }
  return chunks;
}

/**
 * Stable chunk id: the document id + a hash of (tenant, document id, chunk text). The same
 * text in the same document always has the same id, so re-ingesting an unchanged document is
 * a no-op upsert, and changed chunks get new ids (the old ones are deleted as stale).
 */
export function chunkId(tenant: string, docId: string, text: string): string {
  const h = createHash('sha256').update(tenant).update('\0').update(docId).update('\0').update(text).digest('hex').slice(0, 16);
  return `${docId}#${h}`;
}
