import type { TextViews } from './normalize.js';

/** Verdict levels, from least to most restrictive. */
export type Level = 'safe' | 'warning' | 'blocked';

export const LEVEL_RANK: Readonly<Record<Level, number>> = { safe: 0, warning: 1, blocked: 2 };

/** Which side of the LLM call a text is on. */
export type Direction = 'input' | 'output';

/** Per-call information handed to every layer. */
export interface CheckContext {
  readonly direction: Direction;
  /** Optional caller-supplied context (e.g. the prompt that produced an output). Not moderated itself. */
  readonly context: string | undefined;
  readonly requestId: string;
  /** Normalized views of the text, computed once per request on first use (the engine sets it). */
  readonly views?: TextViews;
}

/** What one layer concluded about one text. */
export interface LayerResult {
  readonly level: Level;
  /** Machine-readable reasons, e.g. "Hate", "keyword:weapons", "repetition". Empty when safe. */
  readonly categories: readonly string[];
  /** 0..1. A fixed per-layer constant, not a calibrated probability (see docs/safety.md). */
  readonly confidence: number;
  readonly explanation: string;
  /** Optional structured detail (never contains the moderated text). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A layer's result as reported in the combined result. */
export interface ReportedLayerResult extends LayerResult {
  readonly name: string;
  readonly latencyMs: number;
}

/**
 * One check in the pipeline. Implement this to add a layer (for example a guard
 * model served by vLLM): give it a unique name, say which directions it applies to,
 * and return a LayerResult, or a Promise of one for a layer that does I/O. (The
 * local layers answer synchronously so the hot path allocates no promises; the
 * engine awaits only layers that return a promise.) A layer must not throw or reject
 * for expected failures; it should report them according to the configured failure
 * mode (see AzureContentSafetyLayer). An unexpected throw or rejection is caught by
 * the engine and reported as `blocked` (fail closed).
 */
export interface Layer {
  readonly name: string;
  readonly appliesTo: ReadonlySet<Direction>;
  check(text: string, ctx: CheckContext): LayerResult | Promise<LayerResult>;
}

/** The combined verdict returned to callers. */
export interface ModerationResult {
  readonly level: Level;
  readonly categories: readonly string[];
  readonly confidence: number;
  readonly explanation: string;
  readonly layers: readonly ReportedLayerResult[];
}

/** A frozen "safe" result (layers return shared instances to avoid allocations). */
export function safeResult(explanation: string, confidence = 0.9): LayerResult {
  return Object.freeze({ level: 'safe', categories: Object.freeze([]) as readonly string[], confidence, explanation });
}
