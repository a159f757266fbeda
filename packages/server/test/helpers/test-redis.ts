import { Redis } from 'ioredis';

export const REDIS_URL = process.env['PARLEY_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const isCI = process.env['CI'] === 'true';

let cached: Promise<boolean> | undefined;

/** Whether Redis answers. Not answering skips Redis suites with a loud notice, except with CI=true: then it fails. */
export function redisAvailable(): Promise<boolean> {
  cached ??= (async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return true;
    } catch {
      if (isCI) throw new Error(`CI=true but Redis does not answer at ${REDIS_URL}: failing, not skipping`);
      console.warn(`\n${'!'.repeat(78)}\n!! Redis does not answer at ${REDIS_URL}: Redis suites are SKIPPED.\n${'!'.repeat(78)}\n`);
      return false;
    } finally {
      client.disconnect();
    }
  })();
  return cached;
}
