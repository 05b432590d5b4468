import { createService } from './app.js';
import { ConfigError, loadConfigFromEnv, type Config } from './config.js';
import { SchemaMismatchError } from './store/types.js';
import { installTracing, shutdownTracing } from './tracing.js';

/**
 * Entry point: node dist/server.cjs [bootstrap]
 * Reads the config file named by RAG_CONFIG_PATH (secrets from env), listens on
 * server.host:port (PORT overrides), and shuts down gracefully on SIGTERM/SIGINT.
 * `bootstrap`: create/verify/load the collections, then exit (for a Job).
 */
function fatal(msg: string): never {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'rag', msg })}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfigFromEnv(process.env);
  } catch (e) {
    fatal(e instanceof ConfigError ? e.message : `failed to load config: ${String(e)}`);
  }
  await installTracing({ serviceName: config.tracing.serviceName, ...(config.tracing.otlpEndpoint !== undefined ? { otlpEndpoint: config.tracing.otlpEndpoint } : {}) });
  const service = createService(config);
  const { logger } = service;

  if (process.argv[2] === 'bootstrap') {
    try {
      const r = await service.bootstrap();
      logger.info({ collections: r }, 'bootstrap complete');
      await service.shutdown();
      process.exit(0);
    } catch (e) {
      fatal(`bootstrap failed: ${(e as Error).message}`);
    }
  }

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'signal received');
    const timer = setTimeout(() => process.exit(1), config.server.shutdownDelayMs + config.server.shutdownTimeoutMs);
    timer.unref();
    service
      .shutdown()
      .then(() => shutdownTracing())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await service.start();
  } catch (err) {
    if (err instanceof SchemaMismatchError) fatal(err.message);
    logger.fatal({ err: { message: (err as Error).message } }, 'failed to start');
    process.exit(1);
  }
}

void main();
