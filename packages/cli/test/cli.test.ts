import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, createServer, loadConfig, type ParleyServer } from '@parley/server';
import { runCli, serveConfigFrom, serverUrlFrom, type CliIo } from '@parley/cli';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  tempDirs.push(dir);
  return dir;
}

/** Runs the CLI in-process with an explicit environment, so the runner's own PARLEY_* never leak in. */
async function cli(args: string[], io: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: {},
    ...io,
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

let counter = 0;
const freshHandle = (): string => `cli${process.pid}x${++counter}x${Math.random().toString(36).slice(2, 7)}`;

/** A port that was free a moment ago and has nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  await new Promise<void>((done) => probe.close(() => done()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

let server: ParleyServer;
let url: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  server = await createServer(loadConfig({ PARLEY_DATA_DIR: dataDir, PARLEY_PORT: '0', PARLEY_LOG_LEVEL: 'silent' }));
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** An admin command against the test server, with the admin key read from its data directory. */
const admin = (...args: string[]): Promise<Run> => cli(['admin', ...args, '--url', url, '--data-dir', dataDir]);

const me = (credential: string): Promise<Response> => fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${credential}` } });

async function createHuman(): Promise<string> {
  const handle = freshHandle();
  const run = await admin('user', 'create', handle);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return handle;
}

describe('parley admin key', () => {
  it('prints the key the server stored in its data directory', async () => {
    const run = await cli(['admin', 'key', '--data-dir', dataDir]);
    expect(run).toEqual({ code: 0, stdout: `${server.secrets.adminKey}\n`, stderr: '' });
  });

  it('reads the data directory from PARLEY_DATA_DIR, and prints JSON with --json', async () => {
    const run = await cli(['admin', 'key', '--json'], { env: { PARLEY_DATA_DIR: dataDir } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ adminKey: server.secrets.adminKey });
  });

  it('prefers PARLEY_ADMIN_KEY over the stored key', async () => {
    const run = await cli(['admin', 'key', '--data-dir', dataDir], { env: { PARLEY_ADMIN_KEY: 'pk_admin_from_the_environment' } });
    expect(run).toEqual({ code: 0, stdout: 'pk_admin_from_the_environment\n', stderr: '' });
  });

  it('tells the user to start the server once when there is no key yet', async () => {
    const empty = tempDir();
    const run = await cli(['admin', 'key', '--data-dir', empty]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `error: no admin key at ${join(empty, 'admin-key')}: start the server once (npm start) to generate it, ` +
        'or pass --data-dir (PARLEY_DATA_DIR) or set PARLEY_ADMIN_KEY\n',
    );
  });
});

describe('parley admin user create', () => {
  it('creates a human and says so', async () => {
    const handle = freshHandle();
    const run = await admin('user', 'create', handle, '--display-name', 'Alice Example', '--password', 'correct horse');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Created human ${handle} \\(usr_[^)]+\\)\\n$`));
    const login = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle, password: 'correct horse' }),
    });
    expect(login.status).toBe(200);
  });

  it('prints the created user as JSON with --json', async () => {
    const handle = freshHandle();
    const run = await admin('user', 'create', handle, '--admin', '--json');
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout);
    expect(body.user).toMatchObject({ handle, kind: 'human', admin: true, disabled: false });
    expect(body.apiKey).toBeUndefined();
  });

  it('creates a bot and prints its API key, which works', async () => {
    const handle = freshHandle();
    const run = await admin('user', 'create', handle, '--kind', 'bot', '--json');
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout);
    expect(body.user).toMatchObject({ handle, kind: 'bot' });
    expect(typeof body.apiKey).toBe('string');
    const res = await me(body.apiKey);
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).user.handle).toBe(handle);
  });

  it('shows a bot\'s API key in the text output', async () => {
    const run = await admin('user', 'create', freshHandle(), '--kind', 'bot');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Created bot .+\nAPI key \(shown only this once; keep it secret\): \S+\n$/);
  });

  it('reports a taken handle with the server\'s message and code', async () => {
    const handle = await createHuman();
    const run = await admin('user', 'create', handle);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `error: The handle "${handle}" is taken (conflict)\n` });
  });

  it('reports a wrong admin key as unauthenticated', async () => {
    const run = await cli(['admin', 'user', 'create', freshHandle(), '--url', url, '--admin-key', 'pk_admin_wrong_key_000000']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .+ \(unauthenticated\)\n$/);
  });

  it('uses PARLEY_URL and PARLEY_ADMIN_KEY from the environment', async () => {
    const handle = freshHandle();
    const run = await cli(['admin', 'user', 'create', handle], { env: { PARLEY_URL: url, PARLEY_ADMIN_KEY: server.secrets.adminKey } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Created human ${handle}`);
  });
});

describe('parley admin user list', () => {
  it('prints a table', async () => {
    const handle = await createHuman();
    const run = await admin('user', 'list', '--all');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +HANDLE +KIND +ADMIN +DISABLED$/);
    expect(lines.find((l) => l.includes(` ${handle} `))).toMatch(new RegExp(`^usr_\\S+ +${handle} +human +no +no$`));
  });

  it('prints a page as JSON and filters by kind', async () => {
    const bot = freshHandle();
    expect((await admin('user', 'create', bot, '--kind', 'bot')).code).toBe(0);
    const run = await admin('user', 'list', '--kind', 'bot', '--all', '--json');
    expect(run.code).toBe(0);
    const page = JSON.parse(run.stdout);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((u: any) => u.handle)).toContain(bot);
    expect(page.items.every((u: any) => u.kind === 'bot')).toBe(true);
  });

  it('stops after one page unless --all, and says more remain', async () => {
    await createHuman();
    await createHuman();
    const json = await admin('user', 'list', '--limit', '1', '--json');
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout);
    expect(page.items).toHaveLength(1);
    expect(typeof page.nextCursor).toBe('string');
    const text = await admin('user', 'list', '--limit', '1');
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(text.stderr).toBe('More users remain: add --all to list them all.\n');
  });

  it('follows every page with --all', async () => {
    await createHuman();
    await createHuman();
    const res = await fetch(`${url}/v1/users?limit=200`, { headers: { authorization: `Bearer ${server.secrets.adminKey}` } });
    const everyone = ((await res.json()) as { items: { id: string }[] }).items.map((u) => u.id);
    const run = await admin('user', 'list', '--limit', '1', '--all', '--json');
    expect(run.code).toBe(0);
    const paged = JSON.parse(run.stdout);
    expect(paged.nextCursor).toBeNull();
    expect(paged.items.map((u: any) => u.id)).toEqual(everyone);
  });
});

describe('parley admin user token', () => {
  it('prints only the token on stdout, and the token works', async () => {
    const handle = await createHuman();
    const run = await admin('user', 'token', handle);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(run.stderr).toMatch(new RegExp(`^Token for ${handle} \\(usr_\\S+\\), scopes chat, expires \\S+\\n$`));
    const res = await me(run.stdout.trim());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user: { handle }, scopes: ['chat'], credential: 'token' });
  });

  it('takes a user id, scopes and a lifetime, and prints JSON with --json', async () => {
    const created = JSON.parse((await admin('user', 'create', freshHandle(), '--admin', '--json')).stdout);
    const run = await admin('user', 'token', created.user.id, '--scopes', 'chat,admin', '--expires-in', '600', '--json');
    expect(run.code).toBe(0);
    const token = JSON.parse(run.stdout);
    expect(token).toMatchObject({ tokenType: 'Bearer', userId: created.user.id, scopes: ['chat', 'admin'] });
    expect((await me(token.token)).status).toBe(200);
  });

  it('says when no user has the handle', async () => {
    const run = await admin('user', 'token', 'nobody-here');
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'error: no user with the handle "nobody-here"\n' });
  });
});

describe('parley admin user disable, enable, revoke-tokens, delete', () => {
  it('disable stops the user\'s tokens; enable lets it have new ones', async () => {
    const handle = await createHuman();
    const token = (await admin('user', 'token', handle)).stdout.trim();
    expect((await me(token)).status).toBe(200);

    const disabled = await admin('user', 'disable', handle);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toMatch(new RegExp(`^Disabled ${handle} \\(usr_\\S+\\)\\n$`));
    expect((await me(token)).status).toBe(401);

    const enabled = await admin('user', 'enable', handle, '--json');
    expect(enabled.code).toBe(0);
    expect(JSON.parse(enabled.stdout)).toMatchObject({ handle, disabled: false });
    const fresh = (await admin('user', 'token', handle)).stdout.trim();
    expect((await me(fresh)).status).toBe(200);
  });

  it('revoke-tokens ends the tokens issued so far', async () => {
    const handle = await createHuman();
    const token = (await admin('user', 'token', handle)).stdout.trim();
    const run = await admin('user', 'revoke-tokens', handle);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Revoked every token of ${handle} \\(usr_\\S+\\)\\n$`));
    expect((await me(token)).status).toBe(401);
  });

  it('delete removes the user', async () => {
    const handle = await createHuman();
    const run = await admin('user', 'delete', handle, '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ deleted: true });
    const again = await admin('user', 'delete', handle);
    expect(again).toEqual({ code: 1, stdout: '', stderr: `error: no user with the handle "${handle}"\n` });
  });

  it('reports an unknown user id with the server\'s not_found', async () => {
    const run = await admin('user', 'disable', 'usr_doesnotexist');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .+ \(not_found\)\n$/);
  });
});

describe('connection and usage errors', () => {
  it('says so clearly when no server answers', async () => {
    const port = await closedPort();
    const run = await cli(['admin', 'user', 'list', '--url', `http://127.0.0.1:${port}`, '--admin-key', 'pk_admin_whatever']);
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: cannot reach the Parley server at http://127.0.0.1:${port}: is it running? (npm start)\n`,
    });
  });

  it.each([
    [['admin', 'user', 'list', '--bogus']],
    [['admin', 'user', 'create', 'x', '--kind', 'robot']],
    [['admin', 'user', 'token', 'x', '--scopes', 'chat,root']],
    [['admin', 'user', 'list', '--limit', '0']],
    [['admin', 'user', 'create']],
    [['admin', 'frobnicate']],
    [['admin']],
    [[]],
  ])('exits 2 on a usage error: parley %j', async (args) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toBe('');
  });

  it('exits 2 on a malformed --url', async () => {
    const run = await cli(['admin', 'user', 'list', '--url', 'not a url', '--admin-key', 'pk_admin_whatever']);
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'error: invalid server URL "not a url": expected e.g. http://127.0.0.1:8080\n' });
  });
});

describe('--help', () => {
  it('lists the commands', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: parley /);
    expect(run.stdout).toContain('serve');
    expect(run.stdout).toContain('admin');
  });

  it.each([
    'serve',
    'admin',
    'admin key',
    'admin user',
    'admin user create',
    'admin user list',
    'admin user token',
    'admin user disable',
    'admin user enable',
    'admin user delete',
    'admin user revoke-tokens',
  ])('works on parley %s', async (command) => {
    const run = await cli([...command.split(' '), '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: parley ${command} `);
    expect(run.stderr).toBe('');
  });

  it('documents the admin options', async () => {
    const run = await cli(['admin', 'user', 'create', '--help']);
    for (const flag of ['--kind <kind>', '--display-name <name>', '--password <password>', '--admin', '--json', '--url <url>', '--admin-key <key>', '--data-dir <dir>', 'PARLEY_URL']) {
      expect(run.stdout).toContain(flag);
    }
  });

  it('offers every configuration setting as a serve flag, with its variable', async () => {
    const run = await cli(['serve', '--help']);
    for (const f of CONFIG_FIELDS) {
      expect(run.stdout).toContain(f.flag);
      expect(run.stdout).toContain(f.env);
    }
  });
});

describe('docs/cli.md', () => {
  const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

  it('documents every serve flag with its variable', () => {
    for (const f of CONFIG_FIELDS) expect(doc).toMatch(new RegExp(`\\| \`${f.flag} <[a-z]+>\` \\| \`${f.env}\` \\|`));
  });

  it.each(['serve', 'admin key', 'admin user create', 'admin user list', 'admin user token', 'admin user disable', 'admin user enable', 'admin user revoke-tokens', 'admin user delete'])(
    'has an example of parley %s',
    (command) => {
      expect(doc).toContain(`$ npx parley ${command}`);
    },
  );
});

describe('serveConfigFrom', () => {
  it('maps flags, keyed by field name, into the configuration', () => {
    const dir = tempDir();
    const config = serveConfigFrom(
      { port: '9000', host: '0.0.0.0', dataDir: dir, databaseUrl: 'postgres://u:p@db/parley', logLevel: 'debug', maxPageSize: '300' },
      {},
    );
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', dataDir: dir, databaseUrl: 'postgres://u:p@db/parley', logLevel: 'debug' });
    expect(config.limits.maxPageSize).toBe(300);
  });

  it('falls back to the environment, then to the defaults; flags win', () => {
    const config = serveConfigFrom({ port: '9001' }, { PARLEY_PORT: '7000', PARLEY_HOST: '::1', PARLEY_DATA_DIR: '/srv/parley' });
    expect(config).toMatchObject({ port: 9001, host: '::1', dataDir: '/srv/parley', databaseUrl: join('/srv/parley', 'parley.db') });
    expect(serveConfigFrom({}, {})).toMatchObject({ port: 8080, host: '127.0.0.1', logLevel: 'info' });
  });

  it('ignores options that are not settings', () => {
    expect(serveConfigFrom({ json: true, verbose: 'yes' }, {}).port).toBe(8080);
  });

  it('refuses invalid values, naming every bad setting', () => {
    let message = '';
    try {
      serveConfigFrom({ port: 'eighty', logLevel: 'loud' }, { PARLEY_TOKEN_TTL_SECONDS: '5' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration:\n/);
    expect(message).toContain('--port: expected an integer from 0 to 65535, got "eighty"');
    expect(message).toContain('--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"');
    expect(message).toContain('PARLEY_TOKEN_TTL_SECONDS: expected an integer from 60 to 31536000, got "5"');
  });
});

describe('serverUrlFrom', () => {
  it('prefers --url, then PARLEY_URL, then PARLEY_HOST/PARLEY_PORT, then the default', () => {
    expect(serverUrlFrom({ url: 'http://a:1/' }, { PARLEY_URL: 'http://b:2' })).toBe('http://a:1');
    expect(serverUrlFrom({}, { PARLEY_URL: 'https://chat.example.com', PARLEY_PORT: '9' })).toBe('https://chat.example.com');
    expect(serverUrlFrom({}, { PARLEY_PORT: '9000' })).toBe('http://127.0.0.1:9000');
    expect(serverUrlFrom({}, { PARLEY_HOST: '0.0.0.0', PARLEY_PORT: '9000' })).toBe('http://127.0.0.1:9000');
    expect(serverUrlFrom({}, { PARLEY_HOST: '::' })).toBe('http://[::1]:8080');
    expect(serverUrlFrom({}, {})).toBe('http://127.0.0.1:8080');
  });
});

/** Runs `parley serve`; `whileRunning` gets the printed URL once it listens, and the server stops when it returns. */
async function serve(args: string[], env: Record<string, string>, whileRunning: (url: string) => Promise<void> = async () => {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['serve', ...args], {
    env,
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    untilShutdown: async () => {
      const printed = /Parley is listening on (\S+)/.exec(stdout)?.[1];
      if (printed === undefined) throw new Error(`no URL printed yet: ${stdout}`);
      await whileRunning(printed);
      return 'SIGTERM';
    },
  });
  return { code, stdout, stderr };
}

describe('parley serve', () => {
  it('starts, prints the configuration, URL, docs and admin key, and stops on shutdown', async () => {
    const dir = tempDir();
    let health = 0;
    let key: Run | undefined;
    const run = await serve(['--port', '0', '--data-dir', dir, '--log-level', 'silent'], {}, async (served) => {
      health = (await fetch(`${served}/health`)).status;
      key = await cli(['admin', 'key', '--data-dir', dir]);
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(health).toBe(200);
    expect(key?.code).toBe(0);
    const served = /Parley is listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(run.stdout)?.[1];
    expect(served).toBeDefined();
    expect(run.stdout).toContain(`  data dir       ${dir}\n`);
    expect(run.stdout).toContain(`API docs: ${served}/docs\n`);
    expect(run.stdout).toContain(
      `Admin key: generated into ${join(dir, 'admin-key')} (first start); \`npx parley admin key --data-dir ${JSON.stringify(dir)}\` prints it.\n`,
    );
    expect(run.stdout).toMatch(/SIGTERM: shutting down…\nParley stopped\.\n$/);
  });

  it('reuses the stored admin key on the next start', async () => {
    const dir = tempDir();
    expect((await serve(['--port', '0'], { PARLEY_DATA_DIR: dir, PARLEY_LOG_LEVEL: 'silent' })).code).toBe(0);
    const second = await serve(['--port', '0'], { PARLEY_DATA_DIR: dir, PARLEY_LOG_LEVEL: 'silent' });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Admin key: stored in ${join(dir, 'admin-key')};`);
  });

  it('says when the admin key comes from PARLEY_ADMIN_KEY, and accepts it', async () => {
    const dir = tempDir();
    const adminKey = 'pk_admin_from_env_0123456789';
    let status = 0;
    const run = await serve(['--port', '0', '--data-dir', dir], { PARLEY_ADMIN_KEY: adminKey, PARLEY_LOG_LEVEL: 'silent' }, async (served) => {
      status = (await cli(['admin', 'user', 'list', '--url', served], { env: { PARLEY_ADMIN_KEY: adminKey } })).code;
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Admin key: from PARLEY_ADMIN_KEY.\n');
    expect(status).toBe(0);
  });

  it('refuses an invalid configuration with exit code 1 and no stack trace', async () => {
    const run = await serve(['--port', 'eighty', '--log-level', 'loud'], { PARLEY_DATA_DIR: tempDir() });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'error: Invalid configuration:\n' +
        '  - --port: expected an integer from 0 to 65535, got "eighty"\n' +
        '  - --log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"\n',
    );
  });

  it('fails with exit code 1 when the port is taken', async () => {
    const port = new URL(url).port;
    const run = await serve(['--port', port, '--data-dir', tempDir(), '--log-level', 'silent'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: cannot listen on 127.0.0.1:${port}: the address is already in use (another server running?)\n`);
  });
});
