import { describe, expect, it } from 'vitest';
import type { ReportedLayerResult } from '../src/types.js';
import { combine, moreRestrictive } from '../src/verdict.js';

const r = (name: string, level: ReportedLayerResult['level'], categories: string[] = [], confidence = 0.9): ReportedLayerResult => ({
  name,
  level,
  categories,
  confidence,
  explanation: `${name} says ${level}`,
  latencyMs: 0.1,
});

describe('combine (most restrictive wins)', () => {
  it('orders blocked > warning > safe', () => {
    expect(moreRestrictive('safe', 'warning')).toBe('warning');
    expect(moreRestrictive('warning', 'blocked')).toBe('blocked');
    expect(moreRestrictive('blocked', 'safe')).toBe('blocked');
    expect(moreRestrictive('safe', 'safe')).toBe('safe');
  });

  it('all safe -> safe with the lowest confidence, no categories', () => {
    const c = combine([r('a', 'safe', [], 0.9), r('b', 'safe', [], 0.8)]);
    expect(c.level).toBe('safe');
    expect(c.categories).toEqual([]);
    expect(c.confidence).toBe(0.8);
    expect(c.explanation).toBe('All safety checks passed');
  });

  it('a warning beats safe layers', () => {
    const c = combine([r('a', 'safe'), r('b', 'warning', ['repetition'], 0.8), r('c', 'safe')]);
    expect(c.level).toBe('warning');
    expect(c.categories).toEqual(['repetition']);
    expect(c.confidence).toBe(0.8);
    expect(c.explanation).toBe('b: b says warning');
  });

  it('blocked beats warnings; categories of the winning level come first, warnings kept', () => {
    const c = combine([
      r('w', 'warning', ['hallucination'], 0.6),
      r('b1', 'blocked', ['injection'], 0.9),
      r('s', 'safe'),
      r('b2', 'blocked', ['Hate', 'injection'], 1),
    ]);
    expect(c.level).toBe('blocked');
    expect(c.categories).toEqual(['injection', 'Hate', 'hallucination']);
    expect(c.confidence).toBe(1);
    expect(c.explanation).toBe('b1: b1 says blocked; b2: b2 says blocked');
  });

  it('keeps every layer result unchanged and in order', () => {
    const layers = [r('a', 'safe'), r('b', 'blocked', ['x']), r('c', 'warning', ['y'])];
    const c = combine(layers);
    expect(c.layers).toEqual(layers);
    expect(c.layers.map((l) => l.name)).toEqual(['a', 'b', 'c']);
  });

  it('no layers -> safe with zero confidence', () => {
    const c = combine([]);
    expect(c.level).toBe('safe');
    expect(c.confidence).toBe(0);
  });
});
