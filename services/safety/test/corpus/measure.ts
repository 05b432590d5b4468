import { resolveConfig } from '../../src/config.js';
import { SafetyEngine } from '../../src/engine.js';
import { Metrics } from '../../src/metrics.js';
import { BENIGN } from './benign.js';
import { evasionCases, TRANSFORMS, type EvasionCase } from './evasion.js';

/** The engine with the shipped defaults and Azure off: what the local layers decide on their own. */
export function localEngine(): SafetyEngine {
  const config = resolveConfig({ azure: { enabled: false } }, {});
  return new SafetyEngine(config, { metrics: new Metrics({ defaultMetrics: false }) });
}

export interface CorpusReport {
  readonly cases: number;
  readonly caught: number;
  readonly catchRate: number;
  /** Excluding the transforms marked as known misses. */
  readonly catchRateExcludingKnownMisses: number;
  readonly byTransform: ReadonlyArray<{ name: string; cases: number; caught: number; expectedMiss: boolean }>;
  readonly byList: ReadonlyArray<{ list: string; cases: number; caught: number }>;
  readonly missed: readonly EvasionCase[];
  readonly benign: number;
  readonly falsePositives: ReadonlyArray<{ text: string; categories: readonly string[] }>;
  readonly falsePositiveRate: number;
}

export async function measure(engine: SafetyEngine = localEngine()): Promise<CorpusReport> {
  const cases = evasionCases();
  const missed: EvasionCase[] = [];
  const perT = new Map<string, { cases: number; caught: number }>();
  const perL = new Map<string, { cases: number; caught: number }>();
  let caught = 0;
  let caughtExcl = 0;
  let casesExcl = 0;
  for (const c of cases) {
    const r = await engine.moderate(c.text, { direction: 'input', context: undefined, requestId: 'corpus' });
    const ok = r.level === 'blocked' && r.categories.includes(c.seed.category);
    const t = perT.get(c.transform.name) ?? { cases: 0, caught: 0 };
    const l = perL.get(c.seed.list) ?? { cases: 0, caught: 0 };
    t.cases++;
    l.cases++;
    if (!c.transform.expectedMiss) casesExcl++;
    if (ok) {
      caught++;
      t.caught++;
      l.caught++;
      if (!c.transform.expectedMiss) caughtExcl++;
    } else missed.push(c);
    perT.set(c.transform.name, t);
    perL.set(c.seed.list, l);
  }
  const falsePositives: Array<{ text: string; categories: readonly string[] }> = [];
  for (const text of BENIGN) {
    const r = await engine.moderate(text, { direction: 'input', context: undefined, requestId: 'benign' });
    if (r.level === 'blocked') falsePositives.push({ text, categories: r.categories });
  }
  return {
    cases: cases.length,
    caught,
    catchRate: caught / cases.length,
    catchRateExcludingKnownMisses: caughtExcl / casesExcl,
    byTransform: TRANSFORMS.map((t) => ({ name: t.name, expectedMiss: t.expectedMiss === true, ...(perT.get(t.name) ?? { cases: 0, caught: 0 }) })),
    byList: [...perL].map(([list, v]) => ({ list, ...v })),
    missed,
    benign: BENIGN.length,
    falsePositives,
    falsePositiveRate: falsePositives.length / BENIGN.length,
  };
}
