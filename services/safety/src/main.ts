import { createService } from './app.js';
import { ConfigError, loadConfigFromEnv, type Config } from './config.js';

/**
 * Entry point: node dist/server.cjs
 * Reads the config file named by SAFETY_CONFIG_PATH, listens on server.host:port
 * (PORT overrides), and shuts down gracefully on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfigFromEnv(process.env);
  } catch (e) {
    const message = e instanceof ConfigError ? e.message : `failed to load config: ${String(e)}`;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'safety', msg: message })}\n`);
    process.exit(2);
  }

  let service: ReturnType<typeof createService>;
  try {
    service = createService(config);
  } catch (e) {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'safety', msg: `failed to initialise: ${String(e)}` })}\n`);
    process.exit(2);
  }
  const { logger } = service;

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'signal received');
    const budget = config.server.shutdownDelayMs + config.server.shutdownTimeoutMs;
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: budget }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, budget);
    timer.unref();
    service.shutdown().then(
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
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
}

void main();
