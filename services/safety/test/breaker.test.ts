import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from '../src/resilience/breaker.js';
import { ManualClock, useFakeAzure, azureConfig, getJson, layerOf, parseMetrics, postJson, startService, type Running } from './helpers.js';

describe('CircuitBreaker (unit, injectable clock)', () => {
  it('closed -> open after N consecutive failures; rejects while open', () => {
    const clock = new ManualClock();
    const transitions: string[] = [];
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: clock.now, onStateChange: (f, t) => transitions.push(`${f}->${t}`) });
    for (let i = 0; i < 2; i++) {
      const p = b.tryAcquire();
      expect(p).toBe('normal');
      b.onFailure(p);
    }
    expect(b.state).toBe('closed');
    const ok = b.tryAcquire();
    b.onSuccess(ok); // a success resets the consecutive count
    expect(b.failures).toBe(0);
    for (let i = 0; i < 3; i++) b.onFailure(b.tryAcquire());
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe('rejected');
    clock.advance(999);
    expect(b.tryAcquire()).toBe('rejected');
    expect(transitions).toEqual(['closed->open']);
  });

  it('half-open after the cool-down: one probe, others rejected; success closes', () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, now: clock.now });
    b.onFailure(b.tryAcquire());
    expect(b.state).toBe('open');
    clock.advance(1000);
    expect(b.state).toBe('half_open');
    const probe = b.tryAcquire();
    expect(probe).toBe('probe');
    expect(b.tryAcquire()).toBe('rejected'); // only one probe at a time
    b.onSuccess(probe);
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe('normal');
  });

  it('a failed probe re-opens with a fresh cool-down', () => {
    const clock = new ManualClock();
    const states: BreakerState[] = [];
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, now: clock.now, onStateChange: (_f, t) => states.push(t) });
    b.onFailure(b.tryAcquire());
    clock.advance(1500);
    const probe = b.tryAcquire();
    b.onFailure(probe);
    expect(b.state).toBe('open');
    clock.advance(999);
    expect(b.tryAcquire()).toBe('rejected');
    clock.advance(1);
    expect(b.tryAcquire()).toBe('probe');
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open']);
  });
});

describe('breaker in the service (fake Azure, manual clock)', () => {
  const { fake, track } = useFakeAzure();
  let svc: Running | undefined;

  const metric = async (name: string): Promise<number | undefined> =>
    parseMetrics(await (await fetch(`${svc?.base}/metrics`)).text()).get(name);

  for (const mode of ['closed', 'open-with-warning'] as const) {
    it(`opens after N failed calls, rejects fast, probes after the cool-down and closes (${mode})`, async () => {
      const clock = new ManualClock();
      let failing = true;
      fake.behavior = () => (failing ? { kind: 'json', status: 500, body: {} } : { kind: 'analyze' });
      svc = track(await startService(
        { failureMode: mode, azure: azureConfig(fake.url, { retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { failureThreshold: 3, cooldownMs: 60_000 } }) },
        { now: clock.now },
      ));
      const expectLevel = mode === 'closed' ? 'blocked' : 'warning';
      const base = svc.base;

      expect((await getJson(base, '/ready')).status).toBe(200);
      expect(await metric('safety_azure_circuit_breaker_state')).toBe(0);

      // 3 failed calls x 2 attempts each
      for (let i = 0; i < 3; i++) {
        const r = await postJson(base, '/v1/moderate/input', { text: `t${i}` });
        expect(r.json['level']).toBe(expectLevel);
      }
      expect(fake.count).toBe(6);
      expect(await metric('safety_azure_circuit_breaker_state')).toBe(1);
      const ready = await getJson(base, '/ready');
      expect(ready.json['azure']).toEqual({ enabled: true, breaker: 'open' });
      if (mode === 'closed') {
        expect(ready.status).toBe(503);
        expect(ready.json['status']).toBe('not_ready');
      } else {
        expect(ready.status).toBe(200); // failures only warn, so the service stays usable
      }

      // while open: Azure is not called; the layer reports circuit_open per failureMode
      for (let i = 0; i < 5; i++) {
        const r = await postJson(base, '/v1/moderate/input', { text: 'while open' });
        const az = layerOf(r.json, 'azure_content_safety');
        expect(az['level']).toBe(expectLevel);
        expect((az['details'] as Record<string, unknown>)['failureKind']).toBe('circuit_open');
        expect((az['details'] as Record<string, unknown>)['attempts']).toBe(0);
      }
      expect(fake.count).toBe(6);
      expect(await metric('safety_azure_errors_total{kind="circuit_open"}')).toBe(5);

      // cool-down elapses: half-open, readiness returns so traffic (and the probe) can come
      clock.advance(60_000);
      expect(await metric('safety_azure_circuit_breaker_state')).toBe(2);
      expect((await getJson(base, '/ready')).status).toBe(200);

      // probe fails -> open again, exactly one attempt (no retries for a probe)
      const failedProbe = await postJson(base, '/v1/moderate/input', { text: 'probe 1' });
      expect(layerOf(failedProbe.json, 'azure_content_safety')['level']).toBe(expectLevel);
      expect(fake.count).toBe(7);
      expect(await metric('safety_azure_circuit_breaker_state')).toBe(1);

      // next cool-down, Azure healthy again: probe succeeds -> closed
      clock.advance(60_000);
      failing = false;
      const probe = await postJson(base, '/v1/moderate/input', { text: 'probe 2 [Hate:4]' });
      expect(fake.count).toBe(8);
      expect(probe.json['level']).toBe('blocked');
      expect(probe.json['categories']).toEqual(['Hate']);
      expect(await metric('safety_azure_circuit_breaker_state')).toBe(0);
      expect((await getJson(base, '/ready')).status).toBe(200);
      const ok = await postJson(base, '/v1/moderate/input', { text: 'all good' });
      expect(ok.json['level']).toBe('safe');
      expect(fake.count).toBe(9);
      expect(await metric('safety_azure_circuit_breaker_transitions_total{to="open"}')).toBe(2);
      expect(await metric('safety_azure_circuit_breaker_transitions_total{to="half_open"}')).toBe(2);
      expect(await metric('safety_azure_circuit_breaker_transitions_total{to="closed"}')).toBe(1);
    });
  }

  it('only one concurrent probe reaches Azure while half-open', async () => {
    const clock = new ManualClock();
    let failing = true;
    fake.behavior = () => (failing ? { kind: 'json', status: 500, body: {} } : { kind: 'delay', ms: 500, then: { kind: 'analyze' } });
    svc = track(await startService(
      { azure: azureConfig(fake.url, { retry: { maxRetries: 0, baseDelayMs: 0, maxDelayMs: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 1000 } }) },
      { now: clock.now },
    ));
    await postJson(svc.base, '/v1/moderate/input', { text: 'x' });
    expect(fake.count).toBe(1);
    clock.advance(1000);
    failing = false;
    const results = await Promise.all(Array.from({ length: 5 }, () => postJson(svc?.base ?? '', '/v1/moderate/input', { text: 'y' })));
    expect(fake.count).toBe(2);
    const kinds = results.map((r) => (layerOf(r.json, 'azure_content_safety')['details'] as Record<string, unknown>)['failureKind'] ?? 'ok');
    expect(kinds.filter((k) => k === 'ok')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'circuit_open')).toHaveLength(4);
  });
});
