import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '@parley/cli';
import { testCertificate } from '../../server/test/helpers/test-tls.js';

const run = promisify(execFile);
const quickstart = fileURLToPath(new URL('../../../docs/acs-quickstart.mjs', import.meta.url));
const tempDirs: string[] = [];

async function cli(args: string[], io: Partial<CliIo> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { env: {}, ...io, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('parley admin acs-connection-string', () => {
  it('prints the connection string from the stored key, as JSON with --json, and warns about plain http', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-acs-cli-'));
    tempDirs.push(dir);
    const missing = await cli(['admin', 'acs-connection-string', '--data-dir', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no ACS access key at ${join(dir, 'acs-access-key')}: start the server once`);

    const key = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    const fromEnv = await cli(['admin', 'acs-connection-string', '--url', 'https://chat.example.com:8443'], { env: { PARLEY_ACS_ACCESS_KEY: key } });
    expect(fromEnv).toEqual({ code: 0, stdout: `endpoint=https://chat.example.com:8443/;accesskey=${key}\n`, stderr: '' });
    const json = await cli(['admin', 'acs-connection-string', '--json'], { env: { PARLEY_ACS_ACCESS_KEY: key, PARLEY_TLS_CERT: '/etc/cert.pem', PARLEY_PORT: '8443' } });
    expect(JSON.parse(json.stdout)).toEqual({
      connectionString: `endpoint=https://127.0.0.1:8443/;accesskey=${key}`,
      endpoint: 'https://127.0.0.1:8443/',
      accessKey: key,
    });
    const plain = await cli(['admin', 'acs-connection-string', '--acs-access-key', key]);
    expect(plain.stdout).toBe(`endpoint=http://127.0.0.1:8080/;accesskey=${key}\n`);
    expect(plain.stderr).toContain('only talks to https:// endpoints');
    const help = await cli(['admin', 'acs-connection-string', '--help']);
    expect(help.stdout).toContain('Usage: parley admin acs-connection-string ');
    for (const flag of ['--json', '--url <url>', '--acs-access-key <key>', '--data-dir <dir>']) expect(help.stdout).toContain(flag);
  });
});

describe('the ACS chat quick-start against `parley serve` with TLS', () => {
  it('runs unmodified, given only the endpoint and the connection string', async () => {
    const cert = await testCertificate();
    const dir = mkdtempSync(join(tmpdir(), 'parley-acs-qs-'));
    tempDirs.push(dir);
    let output = '';
    let connection: { connectionString: string; endpoint: string } | undefined;
    let stdout = '';
    const code = await runCli(['serve', '--port', '0', '--data-dir', dir, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--log-level', 'silent'], {
      env: {},
      stdout: (s) => (stdout += s),
      stderr: () => {},
      untilShutdown: async () => {
        const url = /Parley is listening on (\S+)/.exec(stdout)?.[1];
        expect(url).toMatch(/^https:\/\//);
        const printed = await cli(['admin', 'acs-connection-string', '--url', url!, '--data-dir', dir, '--json']);
        expect(printed.stderr).toBe('');
        connection = JSON.parse(printed.stdout) as { connectionString: string; endpoint: string };
        // A separate Node process, trusting the self-signed certificate the way any Node program would.
        const result = await run(process.execPath, [quickstart], {
          env: {
            PATH: process.env['PATH'] ?? '',
            NODE_EXTRA_CA_CERTS: cert.certFile,
            AZURE_COMMUNICATION_SERVICE_ENDPOINT: url!,
            AZURE_COMMUNICATION_SERVICE_CONNECTION_STRING: connection.connectionString,
          },
        }).catch((err: { stdout?: string; stderr?: string }) => {
          throw new Error(`the quick-start failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
        });
        output = result.stdout;
        return 'SIGTERM';
      },
    });
    expect(code).toBe(0);
    expect(connection?.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    for (const line of ['Thread created: 19:', 'Participants that failed: 0', 'Topic updated to "new topic"', 'Message updated: updated message content', 'Participants added', 'Typing notification sent', 'ReadReceipt: ', 'Thread deleted: ', 'Quick-start complete']) {
      expect(output).toContain(line);
    }
  }, 120_000);
});
