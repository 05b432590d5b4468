import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfigFile, loadConfigFromEnv, resolveConfig } from '../src/config.js';

const KEY = { AZURE_CONTENT_SAFETY_KEY: 'k' };

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('applies documented defaults', () => {
    const c = resolveConfig({ azure: { endpoint: 'https://x.cognitiveservices.azure.com' } }, KEY);
    expect(c.failureMode).toBe('closed');
    expect(c.server).toEqual({
      host: '0.0.0.0',
      port: 8080,
      bodyLimitBytes: 1048576,
      maxTextChars: 100000,
      requestTimeoutMs: 10000,
      keepAliveTimeoutMs: 65000,
      shutdownTimeoutMs: 10000,
      shutdownDelayMs: 0,
    });
    expect(c.logging).toEqual({ level: 'info', logRequestText: false });
    expect(c.azure.apiVersion).toBe('2024-09-01');
    expect(c.azure.outputType).toBe('FourSeverityLevels');
    expect(c.azure.thresholds).toEqual({ Hate: 4, Sexual: 4, Violence: 4, SelfHarm: 2 });
    expect(c.azure.timeoutMs).toBe(1500);
    expect(c.azure.retry).toEqual({ maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1000 });
    expect(c.azure.circuitBreaker).toEqual({ failureThreshold: 5, cooldownMs: 30000 });
    expect(c.layers.promptInjection.appliesTo).toEqual(['input', 'output']);
    expect(c.layers.defaults).toEqual({ enabled: true, disable: [] });
    expect(c.layers.normalization).toEqual({ enabled: true, decode: ['base64', 'percent', 'hex'], maxDecodeDepth: 2, plurals: true, squeezeMinChars: 6, longWordChars: 16 });
    expect(c.layers.keywordBlocklist.appliesTo).toEqual(['input']);
    expect(c.litellmGuardrail).toEqual({ enabled: true, images: 'ignore' });
    expect(c.azureKey).toBe('k');
  });

  it('requires azure.endpoint unless azure.enabled is false', () => {
    const e = errorOf(() => resolveConfig({}, KEY));
    expect(e.message).toContain('"azure.endpoint"');
    expect(e.message).toContain('azure.enabled');
    const c = resolveConfig({ azure: { enabled: false } }, {});
    expect(c.azure.enabled).toBe(false);
    expect(c.azureKey).toBeUndefined();
  });

  it('reads the key only from env AZURE_CONTENT_SAFETY_KEY', () => {
    const e = errorOf(() => resolveConfig({ azure: { endpoint: 'https://x.example' } }, {}));
    expect(e.message).toContain('AZURE_CONTENT_SAFETY_KEY');
    const e2 = errorOf(() => resolveConfig({ azure: { endpoint: 'https://x.example', key: 'secret' } }, KEY));
    expect(e2.message).toContain('"azure.key"');
  });

  it('takes the endpoint from env AZURE_CONTENT_SAFETY_ENDPOINT (overriding the file) and the port from PORT', () => {
    const c = resolveConfig(
      { azure: { endpoint: 'https://file.example' }, server: { port: 9000 } },
      { ...KEY, AZURE_CONTENT_SAFETY_ENDPOINT: 'https://env.example', PORT: '8181' },
    );
    expect(c.azure.endpoint).toBe('https://env.example');
    expect(c.server.port).toBe(8181);
    expect(errorOf(() => resolveConfig({ azure: { enabled: false } }, { PORT: 'eighty' })).message).toContain('PORT');
  });

  it('names the offending key in errors', () => {
    const e = errorOf(() =>
      resolveConfig(
        {
          azure: { endpoint: 'ftp://nope', thresholds: { Hate: 9 } },
          failureMode: 'sometimes',
          layers: { heuristics: { repetiton: {} } },
        },
        KEY,
      ),
    );
    expect(e.message).toContain('"azure.endpoint"');
    expect(e.message).toContain('"azure.thresholds.Hate"');
    expect(e.message).toContain('"failureMode"');
    expect(e.message).toContain('"layers.heuristics.repetiton"');
  });

  it('rejects invalid regexes with the pattern path', () => {
    const e = errorOf(() =>
      resolveConfig({ azure: { enabled: false }, layers: { regexBlocklist: { patterns: [{ name: 'a', pattern: '(', category: 'c' }] } } }, {}),
    );
    expect(e.message).toContain('"layers.regexBlocklist.patterns[0].pattern"');
  });

  it('loads YAML and JSON files; SAFETY_CONFIG_PATH is required', () => {
    const dir = mkdtempSync(join(tmpdir(), 'safety-cfg-'));
    const y = join(dir, 'c.yaml');
    writeFileSync(y, 'azure:\n  enabled: false\nfailureMode: open-with-warning\n');
    expect(loadConfigFromEnv({ SAFETY_CONFIG_PATH: y }).failureMode).toBe('open-with-warning');
    const j = join(dir, 'c.json');
    writeFileSync(j, JSON.stringify({ azure: { enabled: false }, logging: { logRequestText: true } }));
    expect(loadConfigFile(j, {}).logging.logRequestText).toBe(true);
    writeFileSync(j, '{ not json');
    expect(errorOf(() => loadConfigFile(j, {})).message).toContain('not valid JSON');
    expect(errorOf(() => loadConfigFromEnv({})).message).toContain('SAFETY_CONFIG_PATH');
    expect(errorOf(() => loadConfigFile(join(dir, 'missing.yaml'), {})).message).toContain('cannot read');
  });

  it('the shipped example config is valid', () => {
    const c = loadConfigFile(new URL('../config/example.yaml', import.meta.url).pathname, KEY);
    expect(c.azure.enabled).toBe(true);
    expect(c.layers.keywordBlocklist.groups.length).toBeGreaterThan(0);
    expect(configSchema).toBeDefined();
  });
});
