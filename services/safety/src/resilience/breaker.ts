export type BreakerState = 'closed' | 'open' | 'half_open';

/** Numeric encoding used by the Prometheus gauge. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

export interface BreakerOptions {
  /** Consecutive failed calls that open the breaker. */
  readonly failureThreshold: number;
  /** How long the breaker stays open before letting one probe call through. */
  readonly cooldownMs: number;
  /** Injectable clock (ms). */
  readonly now?: () => number;
  readonly onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

/** What `tryAcquire` grants. */
export type Permit = 'normal' | 'probe' | 'rejected';

/**
 * A consecutive-failure circuit breaker.
 *
 *   closed --(failureThreshold consecutive failures)--> open
 *   open   --(cooldownMs elapsed; next call is the single probe)--> half_open
 *   half_open --(probe succeeds)--> closed
 *   half_open --(probe fails)--> open (cool-down restarts)
 *
 * While open, and while a half-open probe is in flight, calls are rejected without
 * touching the dependency. A "call" here is one logical call including its retries.
 */
export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * The state as seen from outside: an open breaker whose cool-down has elapsed is
   * reported as half_open (the next call will be the probe).
   */
  get state(): BreakerState {
    if (this.stateValue === 'open' && this.now() - this.openedAt >= this.opts.cooldownMs) return 'half_open';
    return this.stateValue;
  }

  get failures(): number {
    return this.consecutiveFailures;
  }

  /** Ask to make a call. A 'probe' permit must be followed by onSuccess/onFailure. */
  tryAcquire(): Permit {
    if (this.stateValue === 'closed') return 'normal';
    if (this.stateValue === 'open') {
      if (this.now() - this.openedAt < this.opts.cooldownMs) return 'rejected';
      this.transition('half_open');
    }
    // half_open
    if (this.probeInFlight) return 'rejected';
    this.probeInFlight = true;
    return 'probe';
  }

  onSuccess(permit: Permit): void {
    if (permit === 'rejected') return;
    this.consecutiveFailures = 0;
    if (permit === 'probe') this.probeInFlight = false;
    if (this.stateValue !== 'closed') this.transition('closed');
  }

  /**
   * The call ended in a way that says nothing about the dependency's health (e.g. it
   * answered 400 to our input, or this process was too starved to hear the answer):
   * the failure count is unchanged, and a half-open probe just gives its slot back
   * (the next call probes again).
   */
  onNeutral(permit: Permit): void {
    if (permit === 'probe') {
      this.probeInFlight = false;
      if (this.stateValue === 'half_open') {
        // back to open with the cool-down already elapsed: the next call probes again
        this.stateValue = 'open';
      }
    }
  }

  onFailure(permit: Permit): void {
    if (permit === 'rejected') return;
    if (permit === 'probe') {
      this.probeInFlight = false;
      this.open();
      return;
    }
    this.consecutiveFailures += 1;
    if (this.stateValue === 'closed' && this.consecutiveFailures >= this.opts.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition('open');
  }

  private transition(to: BreakerState): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    this.opts.onStateChange?.(from, to);
  }
}
