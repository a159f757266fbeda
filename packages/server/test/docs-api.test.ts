import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { storeImpls } from './helpers/test-stores.js';

const run = promisify(execFile);
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(join(root, 'docs/api.md'), 'utf8');
const blocks = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
const [impl] = await storeImpls();

// docs/api.md is executable documentation: it must run as written and name every endpoint.
describe('docs/api.md', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(impl!);
  });
  afterAll(() => t.close());

  it('names every operation of the OpenAPI document', async () => {
    const spec = (await t.anon.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(30);
    const missing = operations.filter((op) => !doc.includes(op));
    expect(missing).toEqual([]);
  });

  it('runs every curl block, in order, against a real server', async () => {
    expect(blocks.length).toBeGreaterThan(20);
    const script = `set -euo pipefail\n${blocks.map((b, i) => `echo '--- block ${i + 1}:' ${shellQuote(b.split('\n')[0]!)} >&2\n${b}`).join('\n')}`;
    const result = await run('bash', ['-c', script], {
      env: { ...process.env, PARLEY_URL: t.url, ADMIN: t.adminKey },
      maxBuffer: 10 * 1024 * 1024,
    }).catch((err: { stderr?: string; stdout?: string }) => {
      throw new Error(`walkthrough failed:\n${(err.stderr ?? '').split('\n').slice(-6).join('\n')}\n${(err.stdout ?? '').slice(-600)}`);
    });
    const { stdout } = result;
    // The examples that show errors must show the standard error body with the documented codes.
    for (const code of ['conflict', 'forbidden', 'unauthenticated']) expect(stdout).toContain(`"code":"${code}"`);
    expect(stdout).not.toContain('<script>');
    expect(stdout).toContain('Agenda: colours, fonts, then icons');
  }, 120_000);
});
