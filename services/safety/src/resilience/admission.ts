/**
 * Admission control for calls to a dependency: at most `maxInFlight` calls run at
 * once; up to `maxQueue` more wait in FIFO order, each for at most `queueTimeoutMs`.
 * A call that finds the queue full, or waits past its deadline, is shed with an
 * OverloadedError: the caller answers 503 with Retry-After instead of letting every
 * request time out. Shedding never touches the circuit breaker (the dependency was
 * not called).
 */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
  constructor(
    readonly reason: 'queue_full' | 'queue_timeout' | 'starved',
    readonly retryAfterSeconds: number,
  ) {
    super(`overloaded (${reason})`);
  }
}

export interface AdmissionOptions {
  readonly maxInFlight: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly retryAfterSeconds: number;
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

export class Admission {
  private inFlightCount = 0;
  private readonly queue: Waiter[] = [];
  private head = 0;
  private waiting = 0;
  shed = 0;

  constructor(private readonly opts: AdmissionOptions) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  get queued(): number {
    return this.waiting;
  }

  /** Resolves when a slot is granted; the caller must call release() exactly once afterwards. */
  acquire(): Promise<void> | undefined {
    if (this.inFlightCount < this.opts.maxInFlight && this.queued === 0) {
      this.inFlightCount++;
      return undefined; // granted synchronously (no promise allocated)
    }
    if (this.queued >= this.opts.maxQueue) {
      this.shed++;
      return Promise.reject(new OverloadedError('queue_full', this.opts.retryAfterSeconds));
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined, done: false };
      w.timer = setTimeout(() => {
        if (w.done) return;
        w.done = true;
        this.waiting--;
        this.shed++;
        reject(new OverloadedError('queue_timeout', this.opts.retryAfterSeconds));
      }, this.opts.queueTimeoutMs);
      this.queue.push(w);
      this.waiting++;
    });
  }

  release(): void {
    this.inFlightCount--;
    while (this.head < this.queue.length) {
      const w = this.queue[this.head++] as Waiter;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (w.done) continue;
      w.done = true;
      this.waiting--;
      if (w.timer) clearTimeout(w.timer);
      this.inFlightCount++;
      w.resolve();
      return;
    }
  }
}
