/**
 * Minimal hot-path counters and histograms, rendered in the Prometheus text format.
 *
 * prom-client hashes and validates the label set on every inc()/observe() (even for
 * a `.labels()` child), which cost ~1 us per call; the moderation hot path does
 * ~10 such updates per request. These series are instead pre-bound to a label set
 * once (a handle), updated with a plain field increment, and rendered at scrape
 * time next to prom-client's registry output (see Metrics.render()).
 */

export type Labels = Readonly<Record<string, string>>;

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels: Labels, extra?: string): string {
  const parts = Object.keys(labels).map((k) => `${k}="${escapeLabelValue(labels[k] as string)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).map((k) => [k, labels[k]]));
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

export class CounterHandle {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter {
  private readonly children = new Map<string, CounterHandle>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** A handle bound to this label set (created on first use, then reused). */
  child(labels: Labels): CounterHandle {
    const key = keyOf(labels);
    let h = this.children.get(key);
    if (h === undefined) {
      for (const n of this.labelNames) if (labels[n] === undefined) throw new Error(`${this.name}: missing label ${n}`);
      h = new CounterHandle(labels);
      this.children.set(key, h);
    }
    return h;
  }

  inc(labels: Labels, by = 1): void {
    this.child(labels).inc(by);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const h of this.children.values()) lines.push(`${this.name}${formatLabels(h.labels)} ${formatNumber(h.value)}`);
    return lines.join('\n');
  }
}

export class HistogramHandle {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1); // last slot: +Inf
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    (this.counts as { [i: number]: number })[i] = (this.counts[i] as number) + 1;
    this.sum += v;
    this.count++;
  }
}

export class FastHistogram {
  private readonly children = new Map<string, HistogramHandle>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if ((buckets[i] as number) <= (buckets[i - 1] as number)) throw new Error(`${name}: buckets must increase`);
    }
  }

  child(labels: Labels): HistogramHandle {
    const key = keyOf(labels);
    let h = this.children.get(key);
    if (h === undefined) {
      for (const n of this.labelNames) if (labels[n] === undefined) throw new Error(`${this.name}: missing label ${n}`);
      h = new HistogramHandle(labels, this.buckets);
      this.children.set(key, h);
    }
    return h;
  }

  observe(labels: Labels, v: number): void {
    this.child(labels).observe(v);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const h of this.children.values()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += h.counts[i] as number;
        lines.push(`${this.name}_bucket${formatLabels(h.labels, `le="${formatNumber(this.buckets[i] as number)}"`)} ${acc}`);
      }
      acc += h.counts[this.buckets.length] as number;
      lines.push(`${this.name}_bucket${formatLabels(h.labels, 'le="+Inf"')} ${acc}`);
      lines.push(`${this.name}_sum${formatLabels(h.labels)} ${formatNumber(h.sum)}`);
      lines.push(`${this.name}_count${formatLabels(h.labels)} ${h.count}`);
    }
    return lines.join('\n');
  }
}
