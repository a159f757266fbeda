import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  SCOPES,
  type CreateUserRequest,
  type CreateUserResult,
  type IssueTokenRequest,
  type Page,
  type Scope,
  type TokenResult,
  type User,
} from '@parley/protocol';
import { AdminClient } from './admin-client.js';
import { readAcsAccessKey, readAdminKey, resolveAdminConnection, serverUrlFrom, type AdminConnectionFlags } from './admin-connection.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { formatTable } from './format-table.js';

type Env = Readonly<Record<string, string | undefined>>;

interface AdminFlags extends AdminConnectionFlags {
  json?: boolean;
}

const CREATABLE_KINDS = ['human', 'bot'] as const;

function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return Number(value);
}

function parseScopes(value: string): Scope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`expected a comma-separated list of ${SCOPES.join(', ')}.`);
  }
  return [...new Set(scopes)] as Scope[];
}

function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print machine-readable JSON');
}

function withConnection(cmd: Command): Command {
  return withJson(cmd)
    .option('--url <url>', 'server URL (env PARLEY_URL; default http://127.0.0.1:8080, or from PARLEY_HOST/PARLEY_PORT)')
    .option('--admin-key <key>', 'admin API key (env PARLEY_ADMIN_KEY; default: read from the data directory)')
    .option('--data-dir <dir>', 'data directory holding the admin-key file (env PARLEY_DATA_DIR; default ./.parley)');
}

/** A user argument is an id (`usr_…`) or a handle; a handle is looked up with `GET /v1/users?handle=`. */
async function resolveUser(client: AdminClient, ref: string): Promise<{ id: string; label: string }> {
  if (ref.startsWith('usr_')) return { id: ref, label: ref };
  const page = await client.requestJson<Page<User>>('GET', `/v1/users?${new URLSearchParams({ handle: ref, limit: '1' })}`);
  const user = page.items[0];
  if (!user) throw new CliError(`no user with the handle "${ref}"`);
  return { id: user.id, label: `${user.handle} (${user.id})` };
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** Adds `parley admin …`: the admin key, and user management over a running server's REST API. */
export function addAdminCommand(program: Command, io: CliIo, env: Env): void {
  const json = (value: unknown): void => io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  const client = (flags: AdminFlags): AdminClient => new AdminClient(resolveAdminConnection(flags, env));

  const admin = program
    .command('admin')
    .description('Administer a Parley server: print the admin key and the ACS connection string, manage users and tokens')
    .addHelpText(
      'after',
      '\nCommands other than "key" and "acs-connection-string" talk to a running server over HTTP with the admin key; see --help on each.',
    );

  withJson(
    admin
      .command('key')
      .description('Print the admin API key: PARLEY_ADMIN_KEY if set, else the key the server stored in its data directory')
      .option('--data-dir <dir>', 'data directory (env PARLEY_DATA_DIR; default ./.parley)'),
  ).action((flags: AdminFlags) => {
    const adminKey = readAdminKey({ dataDir: flags.dataDir }, env);
    if (flags.json) json({ adminKey });
    else io.stdout(`${adminKey}\n`);
  });

  withJson(
    admin
      .command('acs-connection-string')
      .description(
        'Print the connection string of the Azure Communication Services compatible identity API, for ' +
          'CommunicationIdentityClient (docs/acs.md); it holds an admin-equivalent secret',
      )
      .option('--url <url>', 'the server\'s public https:// URL (env PARLEY_URL; default from PARLEY_HOST/PARLEY_PORT, https when PARLEY_TLS_CERT is set)')
      .option('--acs-access-key <key>', 'access key (env PARLEY_ACS_ACCESS_KEY; default: read from the data directory)')
      .option('--data-dir <dir>', 'data directory holding the acs-access-key file (env PARLEY_DATA_DIR; default ./.parley)'),
  ).action((flags: AdminFlags & { acsAccessKey?: string }) => {
    const endpoint = `${serverUrlFrom(flags, env)}/`;
    const accessKey = readAcsAccessKey(flags, env);
    const connectionString = `endpoint=${endpoint};accesskey=${accessKey}`;
    if (flags.json) json({ connectionString, endpoint, accessKey });
    else io.stdout(`${connectionString}\n`);
    // The ACS chat SDK refuses plain http outright; say so now rather than at the first chat call.
    if (!endpoint.startsWith('https://')) {
      io.stderr('Warning: the ACS chat SDK only talks to https:// endpoints; configure TLS (PARLEY_TLS_CERT, PARLEY_TLS_KEY) and pass the https:// URL.\n');
    }
  });

  const user = admin.command('user').description('Create, list, disable and delete users; issue and revoke their tokens');

  withConnection(
    user
      .command('create')
      .description('Create a human or a bot (a bot\'s API key is printed once)')
      .argument('<handle>', 'unique handle: letters, digits, ".", "_" and "-"')
      .addOption(new Option('--kind <kind>', 'kind of account').choices(CREATABLE_KINDS).default('human'))
      .option('--display-name <name>', 'display name (default: the handle)')
      .option('--password <password>', 'password for signing in (humans only; at least 8 characters)')
      .option('--admin', 'give the user admin rights'),
  ).action(async (handle: string, flags: AdminFlags & { kind: CreateUserRequest['kind']; displayName?: string; password?: string; admin?: boolean }) => {
    const body: CreateUserRequest = { kind: flags.kind, handle };
    if (flags.displayName !== undefined) body.displayName = flags.displayName;
    if (flags.password !== undefined) body.password = flags.password;
    if (flags.admin) body.admin = true;
    const result = await client(flags).requestJson<CreateUserResult>('POST', '/v1/users', body);
    if (flags.json) return json(result);
    const u = result.user;
    io.stdout(`Created ${u.kind} ${u.handle} (${u.id})${u.admin ? ' with admin rights' : ''}\n`);
    if (result.apiKey !== undefined) io.stdout(`API key (shown only this once; keep it secret): ${result.apiKey}\n`);
  });

  withConnection(
    user
      .command('list')
      .description('List users, one page (see --limit) or every page (--all)')
      .addOption(new Option('--kind <kind>', 'only this kind of account').choices(CREATABLE_KINDS))
      .option('--limit <n>', 'users per page (the server caps it)', parsePositiveInt)
      .option('--all', 'follow the pages to the end'),
  ).action(async (flags: AdminFlags & { kind?: string; limit?: number; all?: boolean }) => {
    const c = client(flags);
    const query = new URLSearchParams();
    if (flags.kind !== undefined) query.set('kind', flags.kind);
    if (flags.limit !== undefined) query.set('limit', String(flags.limit));
    const items: User[] = [];
    let page = await c.requestJson<Page<User>>('GET', `/v1/users?${query}`);
    items.push(...page.items);
    while (flags.all && page.nextCursor !== null) {
      query.set('cursor', page.nextCursor);
      page = await c.requestJson<Page<User>>('GET', `/v1/users?${query}`);
      items.push(...page.items);
    }
    if (flags.json) return json({ items, nextCursor: page.nextCursor });
    io.stdout(
      formatTable(
        ['ID', 'HANDLE', 'KIND', 'ADMIN', 'DISABLED'],
        items.map((u) => [u.id, u.handle, u.kind, yesNo(u.admin), yesNo(u.disabled)]),
      ),
    );
    if (page.nextCursor !== null) io.stderr('More users remain: add --all to list them all.\n');
  });

  withConnection(
    user
      .command('token')
      .description('Issue an access token for a user; prints only the token, so $(parley admin user token alice) works')
      .argument('<user>', 'user id (usr_…) or handle')
      .option('--scopes <scopes>', `comma-separated scopes out of ${SCOPES.join(', ')} (default chat)`, parseScopes)
      .option('--expires-in <seconds>', 'lifetime in seconds, 60 to 31536000 (default: the server\'s token TTL)', parsePositiveInt),
  ).action(async (ref: string, flags: AdminFlags & { scopes?: Scope[]; expiresIn?: number }) => {
    const c = client(flags);
    const target = await resolveUser(c, ref);
    const body: IssueTokenRequest = {};
    if (flags.scopes !== undefined) body.scopes = flags.scopes;
    if (flags.expiresIn !== undefined) body.expiresInSeconds = flags.expiresIn;
    const result = await c.requestJson<TokenResult>('POST', `/v1/users/${encodeURIComponent(target.id)}/tokens`, body);
    if (flags.json) return json(result);
    io.stdout(`${result.token}\n`);
    io.stderr(`Token for ${target.label}, scopes ${result.scopes.join(',')}, expires ${result.expiresAt}\n`);
  });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    withConnection(
      user
        .command(name)
        .description(
          disabled
            ? 'Disable a user: it can no longer sign in, and its tokens and API keys stop working'
            : 'Enable a disabled user again (tokens issued before it was disabled stay revoked)',
        )
        .argument('<user>', 'user id (usr_…) or handle'),
    ).action(async (ref: string, flags: AdminFlags) => {
      const c = client(flags);
      const target = await resolveUser(c, ref);
      const updated = await c.requestJson<User>('PATCH', `/v1/users/${encodeURIComponent(target.id)}`, { disabled });
      if (flags.json) return json(updated);
      io.stdout(`${disabled ? 'Disabled' : 'Enabled'} ${updated.handle} (${updated.id})\n`);
    });
  }

  withConnection(
    user
      .command('delete')
      .description('Delete a user: it leaves every conversation; its messages stay')
      .argument('<user>', 'user id (usr_…) or handle'),
  ).action(async (ref: string, flags: AdminFlags) => {
    const c = client(flags);
    const target = await resolveUser(c, ref);
    await c.request('DELETE', `/v1/users/${encodeURIComponent(target.id)}`);
    if (flags.json) return json({ userId: target.id, deleted: true });
    io.stdout(`Deleted ${target.label}\n`);
  });

  withConnection(
    user
      .command('revoke-tokens')
      .description('Revoke every access token issued to a user so far (its API keys stay valid)')
      .argument('<user>', 'user id (usr_…) or handle'),
  ).action(async (ref: string, flags: AdminFlags) => {
    const c = client(flags);
    const target = await resolveUser(c, ref);
    await c.request('DELETE', `/v1/users/${encodeURIComponent(target.id)}/tokens`);
    if (flags.json) return json({ userId: target.id, tokensRevoked: true });
    io.stdout(`Revoked every token of ${target.label}\n`);
  });
}
