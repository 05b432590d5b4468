/**
 * Regression gate for the local layers with the shipped defaults (Azure off): the catch rate
 * on the evasion corpus and the false-positive rate on the benign corpus. The figures are
 * the ones docs/safety.md states; a change to the lists or to normalization that moves them
 * must update both.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LISTS } from '../src/defaults.js';
import { BENIGN } from './corpus/benign.js';
import { SEEDS, TRANSFORMS } from './corpus/evasion.js';
import { localEngine, measure, type CorpusReport } from './corpus/measure.js';

describe('evasion and benign corpora (default lists, local layers only)', () => {
  let report: CorpusReport;
  beforeAll(async () => {
    report = await measure();
  });

  it('is big enough: >= 40 transforms, every default list seeded, >= 500 benign prompts', () => {
    expect(TRANSFORMS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(SEEDS.map((s) => s.list))).toEqual(new Set(DEFAULT_LISTS.map((l) => l.id)));
    expect(BENIGN.length).toBeGreaterThanOrEqual(500);
    expect(new Set(BENIGN).size).toBe(BENIGN.length);
  });

  it('the plain seeds are all caught, each by its own list (the lists themselves work)', async () => {
    const engine = localEngine();
    for (const seed of SEEDS) {
      const r = await engine.moderate(seed.text, { direction: 'input', context: undefined, requestId: 'seed' });
      expect(r.level, seed.text).toBe('blocked');
      expect(r.categories, seed.text).toContain(seed.category);
    }
  });

  it('catches >= 95% of all evasion cases, known misses included (target 90%)', () => {
    expect(report.cases).toBe(977);
    expect(report.catchRate).toBeGreaterThanOrEqual(0.95);
  });

  it('every transform not listed as a known miss catches all its cases', () => {
    const weak = report.byTransform.filter((t) => !t.expectedMiss && t.caught < t.cases);
    expect(weak).toEqual([]);
    expect(report.catchRateExcludingKnownMisses).toBe(1);
  });

  it('the known misses (ROT13, reversed text) are still misses: if they start being caught, update the docs', () => {
    const misses = report.byTransform.filter((t) => t.expectedMiss);
    expect(misses.map((t) => t.name)).toEqual(['ROT13', 'reversed text']);
    for (const t of misses) expect(t.caught).toBe(0);
  });

  it('false-positive rate on the benign corpus <= 0.5% (measured: 0)', () => {
    expect(report.falsePositives).toEqual([]);
    expect(report.falsePositiveRate).toBeLessThanOrEqual(0.005);
  });

  it('docs/safety.md states the measured figures', () => {
    const doc = readFileSync(resolve(__dirname, '../../../docs/safety.md'), 'utf8');
    expect(doc).toContain(`${report.caught} of ${report.cases} evasion cases`);
    expect(doc).toContain(`${report.falsePositives.length} of ${report.benign} benign prompts`);
    expect(doc).toContain(`${TRANSFORMS.length} transforms`);
  });
});
