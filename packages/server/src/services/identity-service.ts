import { createHash, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import {
  ParleyError,
  SCOPES,
  type ApiKey,
  type CreateApiKeyRequest,
  type CreateApiKeyResult,
  type CreateUserRequest,
  type CreateUserResult,
  type IssueTokenRequest,
  type ListUsersQuery,
  type LoginRequest,
  type Me,
  type Page,
  type Scope,
  type TokenResult,
  type BotCommand,
  type UpdateUserRequest,
  type User,
} from '@parley/protocol';
import {
  actsAsAdmin,
  badRequest,
  conflict,
  forbidden,
  newId,
  newSecret,
  notFound,
  pageSize,
  type Actor,
  type ApiKeyId,
  type ApiKeyRecord,
  type UserId,
  type UserRecord,
} from '../domain/index.js';
import { isStoreConflict, type Store } from '../store/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { iso, renderUser } from './render.js';
import type { ServiceContext } from './service-context.js';
import { SYSTEM_DISPLAY_NAME, SYSTEM_USER_ID } from './conversation-writer.js';
import { recordAudit } from './audit-log.js';

export const ADMIN_USER_ID = 'usr_admin' as UserId;

export interface IdentityOptions {
  /** HMAC key signing access tokens. */
  jwtSecret: Uint8Array;
  /** The bootstrap admin API key. */
  adminKey: string;
  /** Lifetime of tokens made by login or key exchange, unless asked otherwise. */
  tokenTtlSeconds: number;
}

/** How the caller proved who it is. */
export type Credential = 'token' | 'apiKey';

export interface Authenticated {
  actor: Actor;
  credential: Credential;
  /** When a token credential expires (epoch ms); API keys do not. */
  expiresAt?: number;
}

const ISSUER = 'parley';
const API_KEY_PREFIX = 'pk';
// Writing last-used on every request would turn every read into a write; once a minute is enough.
const TOUCH_INTERVAL_MS = 60_000;

const hashKey = (key: string): string => createHash('sha256').update(key).digest('base64url');
const normaliseHandle = (handle: string): string => handle.toLowerCase();

function entitledScopes(user: UserRecord): Scope[] {
  return user.admin ? ['chat', 'admin'] : ['chat'];
}

// How many verified tokens are remembered; the oldest is forgotten first (it is verified again if used).
const VERIFIED_TOKENS_KEPT = 10_000;

/** Users, credentials and authentication: the identity use cases. */
export class IdentityService {
  readonly #jwtKey: Uint8Array;
  readonly #adminKeyHash: Buffer;
  // Tokens whose signature and issuer were verified, by token string (see #verifyToken).
  readonly #verified = new Map<string, JWTPayload>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly options: IdentityOptions,
  ) {
    this.#jwtKey = options.jwtSecret;
    this.#adminKeyHash = Buffer.from(hashKey(options.adminKey));
  }

  /** Creates the built-in system and admin accounts if they are missing. Idempotent. */
  async bootstrap(): Promise<void> {
    const now = this.ctx.clock();
    const builtIns: UserRecord[] = [
      { id: SYSTEM_USER_ID, kind: 'system', handle: 'system', displayName: SYSTEM_DISPLAY_NAME, description: 'System messages', admin: false, disabled: false, passwordHash: null, commands: [], tokenVersion: 0, createdAt: now, updatedAt: now },
      { id: ADMIN_USER_ID, kind: 'human', handle: 'admin', displayName: 'Administrator', description: 'Built-in administrator (the admin API key)', admin: true, disabled: false, passwordHash: null, commands: [], tokenVersion: 0, createdAt: now, updatedAt: now },
    ];
    for (const user of builtIns) {
      if (await this.ctx.store.users.get(user.id)) continue;
      try {
        await this.ctx.store.users.insert(user);
      } catch (err) {
        // Another process bootstrapping the same database got there first.
        if (!isStoreConflict(err)) throw err;
      }
    }
  }

  /**
   * A token's claims, once its signature, issuer and expiry are checked. The signature is checked once
   * per token: jose verifies HMAC through WebCrypto, an asynchronous thread-pool job that was a tenth
   * of the server's time on a page read and most of its latency tail, and a token string can only ever
   * verify the same way. Expiry is checked at every use as jose checks it; revocation and the user's
   * state are read from the store at every use by the caller.
   */
  async #verifyToken(token: string): Promise<JWTPayload> {
    const known = this.#verified.get(token);
    if (known) {
      if (typeof known.exp === 'number' && known.exp <= Math.floor(Date.now() / 1000)) {
        this.#verified.delete(token);
        throw new ParleyError('unauthenticated', 'The access token has expired');
      }
      return known;
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#jwtKey, { issuer: ISSUER, algorithms: ['HS256'] }));
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      throw new ParleyError('unauthenticated', expired ? 'The access token has expired' : 'The access token is invalid');
    }
    if (this.#verified.size >= VERIFIED_TOKENS_KEPT) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, payload);
    return payload;
  }

  /** Resolves an `Authorization` header to the acting user, or throws `unauthenticated`. */
  async authenticate(authorization: string | undefined): Promise<Authenticated> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new ParleyError('unauthenticated', 'Send Authorization: Bearer <token or API key>');
    const credential = match[1]!;
    if (credential.split('.').length === 3) return this.#authenticateToken(credential);
    return this.#authenticateApiKey(credential);
  }

  async #authenticateToken(token: string): Promise<Authenticated> {
    const payload = await this.#verifyToken(token);
    const user = typeof payload.sub === 'string' ? await this.ctx.store.users.get(payload.sub as UserId) : undefined;
    if (!user || user.disabled || payload['ver'] !== user.tokenVersion) {
      throw new ParleyError('unauthenticated', 'The access token has been revoked');
    }
    const claimed = Array.isArray(payload['scp']) ? (payload['scp'] as unknown[]) : [];
    const entitled = entitledScopes(user);
    const scopes = SCOPES.filter((s) => claimed.includes(s) && entitled.includes(s));
    const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
    return { actor: toActor(user, scopes), credential: 'token', ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }

  /**
   * The built-in admin, for a caller that proved it holds an admin-equivalent secret checked by its door
   * (the admin API key, or the ACS access key whose HMAC signature the ACS routes verify).
   */
  async authenticateAdmin(): Promise<Authenticated> {
    const admin = await this.ctx.store.users.get(ADMIN_USER_ID);
    if (!admin || admin.disabled) throw new ParleyError('unauthenticated', 'The admin account is disabled');
    return { actor: toActor(admin, entitledScopes(admin)), credential: 'apiKey' };
  }

  async #authenticateApiKey(key: string): Promise<Authenticated> {
    const hash = hashKey(key);
    const hashBuffer = Buffer.from(hash);
    if (hashBuffer.length === this.#adminKeyHash.length && timingSafeEqual(hashBuffer, this.#adminKeyHash)) {
      return this.authenticateAdmin();
    }
    const record = await this.ctx.store.apiKeys.getByHash(hash);
    const user = record && (await this.ctx.store.users.get(record.userId));
    if (!record || !user || user.disabled) throw new ParleyError('unauthenticated', 'The API key is invalid');
    const now = this.ctx.clock();
    if (record.lastUsedAt === null || now - record.lastUsedAt > TOUCH_INTERVAL_MS) {
      await this.ctx.store.apiKeys.touch(record.id, now);
    }
    return { actor: toActor(user, entitledScopes(user)), credential: 'apiKey' };
  }

  async me(auth: Authenticated): Promise<Me> {
    const user = await this.#requireUser(auth.actor.id);
    return { user: renderUser(user), scopes: [...auth.actor.scopes], credential: auth.credential };
  }

  /** Humans sign in with handle and password. */
  async login(req: LoginRequest): Promise<TokenResult> {
    const user = await this.ctx.store.users.getByHandle(normaliseHandle(req.handle));
    const ok = await verifyPassword(req.password, user?.kind === 'human' ? user.passwordHash : null);
    if (!user || !ok || user.disabled) throw new ParleyError('unauthenticated', 'Wrong handle or password');
    return this.#sign(user, req.scopes ?? entitledScopes(user), req.expiresInSeconds ?? this.options.tokenTtlSeconds);
  }

  /** Exchanges the API key the caller authenticated with for a short-lived token. */
  async exchangeApiKey(auth: Authenticated, req: IssueTokenRequest): Promise<TokenResult> {
    if (auth.credential !== 'apiKey') throw badRequest('Only an API key can be exchanged for a token', 'authorization');
    const user = await this.#requireUser(auth.actor.id);
    return this.#sign(user, req.scopes ?? entitledScopes(user), req.expiresInSeconds ?? this.options.tokenTtlSeconds);
  }

  /** Admin: issues a token for any user, with chosen scopes and expiry. */
  async issueToken(actor: Actor, userId: UserId, req: IssueTokenRequest): Promise<TokenResult> {
    requireAdmin(actor);
    const user = await this.#requireUser(userId);
    if (user.kind === 'system') throw forbidden('The system account cannot have tokens', 'userId');
    const token = await this.#sign(user, req.scopes ?? ['chat'], req.expiresInSeconds ?? this.options.tokenTtlSeconds);
    await recordAudit(this.ctx.store, actor, this.ctx.clock(), 'token.issued', { type: 'user', id: userId }, {
      scopes: token.scopes,
      expiresAt: token.expiresAt,
    });
    return token;
  }

  /** Admin: revokes every token issued to the user so far (its API keys stay valid). */
  async revokeTokens(actor: Actor, userId: UserId): Promise<void> {
    requireAdmin(actor);
    const user = await this.#requireUser(userId);
    const now = this.ctx.clock();
    await this.ctx.store.transaction(async (tx) => {
      await tx.users.update(userId, { tokenVersion: user.tokenVersion + 1, updatedAt: now });
      await recordAudit(tx, actor, now, 'user.tokens_revoked', { type: 'user', id: userId });
    });
    this.ctx.bus.publish({ kind: 'session', userId, reason: 'revoked' });
  }

  async #sign(user: UserRecord, scopes: readonly Scope[], ttlSeconds: number): Promise<TokenResult> {
    if (user.disabled) throw forbidden('The user is disabled', 'userId');
    const entitled = entitledScopes(user);
    const refused = scopes.find((s) => !entitled.includes(s));
    if (refused) throw forbidden(`The user may not hold the "${refused}" scope`, 'scopes');
    const now = this.ctx.clock();
    const exp = Math.floor(now / 1000) + ttlSeconds;
    const token = await new SignJWT({ scp: [...scopes], ver: user.tokenVersion })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(user.id)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp)
      .setJti(newId('event', now).slice(4))
      .sign(this.#jwtKey);
    return { token, tokenType: 'Bearer', userId: user.id, scopes: [...scopes], expiresAt: iso(exp * 1000) };
  }

  async createUser(actor: Actor, req: CreateUserRequest): Promise<CreateUserResult> {
    requireAdmin(actor);
    const handle = normaliseHandle(req.handle);
    if (req.password !== undefined && req.kind !== 'human') throw badRequest('Only humans have passwords', 'password');
    if (req.commands !== undefined) checkCommands(req.kind, req.commands);
    const now = this.ctx.clock();
    const user: UserRecord = {
      id: newId('user', now),
      kind: req.kind,
      handle,
      displayName: req.displayName ?? req.handle,
      description: req.description ?? '',
      admin: req.admin ?? false,
      disabled: false,
      passwordHash: req.password === undefined ? null : await hashPassword(req.password),
      commands: req.commands ?? [],
      tokenVersion: 0,
      createdAt: now,
      updatedAt: now,
    };
    try {
      return await this.ctx.store.transaction(async (tx) => {
        await tx.users.insert(user);
        const result: CreateUserResult = { user: renderUser(user) };
        const botKey = user.kind === 'bot' ? await this.#makeApiKey(user.id, 'default', tx) : undefined;
        if (botKey) result.apiKey = botKey.key;
        await recordAudit(tx, actor, now, 'user.created', { type: 'user', id: user.id }, {
          handle,
          kind: user.kind,
          admin: user.admin,
          ...(botKey ? { apiKeyId: botKey.apiKey.id } : {}),
        });
        return result;
      });
    } catch (err) {
      if (isStoreConflict(err)) throw conflict(`The handle "${handle}" is taken`, 'handle');
      throw err;
    }
  }

  async getUser(actor: Actor, userId: UserId): Promise<User> {
    void actor;
    return renderUser(await this.#requireUser(userId));
  }

  /** Any signed-in user may browse the directory (to find people to talk to); filters by kind, handle, disabled. */
  async listUsers(actor: Actor, query: ListUsersQuery): Promise<Page<User>> {
    void actor;
    const limit = pageSize(query.limit, this.ctx.limits.defaultPageSize, this.ctx.limits.maxPageSize);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, (v): v is { a: string } => typeof v === 'object' && v !== null && typeof (v as { a?: unknown }).a === 'string').a;
    const filter = {
      ...(query.kind !== undefined ? { kind: query.kind } : {}),
      ...(query.handle !== undefined ? { handle: normaliseHandle(query.handle) } : {}),
      ...(query.disabled !== undefined ? { disabled: query.disabled } : {}),
    };
    const rows = await this.ctx.store.users.listPage(filter, {
      limit: limit + 1,
      ...(after !== undefined ? { after: after as UserId } : { skip: query.skip ?? 0 }),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(renderUser), nextCursor: rows.length > limit && last ? encodeCursor({ a: last.id }) : null };
  }

  /**
   * Admins change anything of anyone. Others change only their own profile: display name, description and,
   * for bots, the commands they offer.
   */
  async updateUser(actor: Actor, userId: UserId, req: UpdateUserRequest): Promise<User> {
    const asAdmin = actsAsAdmin(actor);
    if (!asAdmin) {
      if (userId !== actor.id) throw forbidden('Only admins can change other users', 'userId');
      if (!actor.scopes.includes('chat')) throw forbidden('This needs a credential with the "chat" scope', 'authorization');
      const adminOnly = (['admin', 'disabled', 'password'] as const).find((f) => req[f] !== undefined);
      if (adminOnly !== undefined) throw forbidden(`Only admins can change "${adminOnly}"`, adminOnly);
    }
    const user = await this.#requireUser(userId);
    if (user.kind === 'system') throw forbidden('The system account cannot be changed', 'userId');
    if (userId === actor.id && (req.admin === false || req.disabled === true)) {
      throw conflict('Admins cannot remove their own admin rights or disable themselves', 'userId');
    }
    if (req.password !== undefined && user.kind !== 'human') throw badRequest('Only humans have passwords', 'password');
    if (req.commands !== undefined) checkCommands(user.kind, req.commands);
    const patch: Partial<UserRecord> = { updatedAt: this.ctx.clock() };
    if (req.displayName !== undefined) patch.displayName = req.displayName;
    if (req.description !== undefined) patch.description = req.description;
    if (req.commands !== undefined) patch.commands = req.commands;
    if (req.admin !== undefined) patch.admin = req.admin;
    if (req.disabled !== undefined) patch.disabled = req.disabled;
    if (req.password !== undefined) patch.passwordHash = await hashPassword(req.password);
    // Losing admin rights, being disabled or a new password ends every session at once.
    if (req.admin === false || req.disabled === true || req.password !== undefined) patch.tokenVersion = user.tokenVersion + 1;
    const changes = (['displayName', 'description', 'commands', 'admin', 'disabled', 'password'] as const).filter((f) => req[f] !== undefined);
    const action = req.disabled !== undefined && req.disabled !== user.disabled ? (req.disabled ? 'user.disabled' : 'user.enabled') : 'user.updated';
    const updated = await this.ctx.store.transaction(async (tx) => {
      const after = await tx.users.update(userId, patch);
      // A user editing its own profile is no admin action.
      if (asAdmin) {
        await recordAudit(tx, actor, patch.updatedAt!, action, { type: 'user', id: userId }, {
          changes,
          ...(req.admin !== undefined ? { admin: req.admin } : {}),
          ...(req.disabled !== undefined ? { disabled: req.disabled } : {}),
        });
      }
      return after;
    });
    // Open realtime connections end with the credentials that opened them.
    if (req.disabled === true) this.ctx.bus.publish({ kind: 'session', userId, reason: 'disabled' });
    else if (patch.tokenVersion !== undefined) this.ctx.bus.publish({ kind: 'session', userId, reason: 'revoked' });
    return renderUser(updated ?? user);
  }

  /** Deletes the account. The caller removes its memberships first (see ParleyServices.deleteUser). */
  async deleteUserRecord(actor: Actor, userId: UserId): Promise<void> {
    await this.checkDeletable(actor, userId);
    const user = await this.#requireUser(userId);
    await this.ctx.store.transaction(async (tx) => {
      await tx.users.delete(userId);
      await recordAudit(tx, actor, this.ctx.clock(), 'user.deleted', { type: 'user', id: userId }, { handle: user.handle, kind: user.kind });
    });
  }

  /** Throws unless the actor may delete this account. */
  async checkDeletable(actor: Actor, userId: UserId): Promise<void> {
    requireAdmin(actor);
    const user = await this.#requireUser(userId);
    if (user.kind === 'system' || user.id === ADMIN_USER_ID) throw forbidden('Built-in accounts cannot be deleted', 'userId');
    if (user.id === actor.id) throw conflict('Admins cannot delete themselves', 'userId');
  }

  async createApiKey(actor: Actor, userId: UserId, req: CreateApiKeyRequest): Promise<CreateApiKeyResult> {
    requireSelfOrAdmin(actor, userId);
    const user = await this.#requireUser(userId);
    if (user.kind === 'system') throw forbidden('The system account cannot have API keys', 'userId');
    return this.ctx.store.transaction(async (tx) => {
      const made = await this.#makeApiKey(userId, req.name ?? 'default', tx);
      await recordAudit(tx, actor, this.ctx.clock(), 'api_key.created', { type: 'api_key', id: made.apiKey.id }, {
        userId,
        name: made.apiKey.name,
        prefix: made.apiKey.prefix,
      });
      return made;
    });
  }

  async listApiKeys(actor: Actor, userId: UserId): Promise<ApiKey[]> {
    requireSelfOrAdmin(actor, userId);
    await this.#requireUser(userId);
    return (await this.ctx.store.apiKeys.listForUser(userId)).map(renderApiKey);
  }

  async deleteApiKey(actor: Actor, userId: UserId, keyId: ApiKeyId): Promise<void> {
    requireSelfOrAdmin(actor, userId);
    await this.ctx.store.transaction(async (tx) => {
      if (!(await tx.apiKeys.delete(userId, keyId))) throw notFound('API key', 'keyId');
      await recordAudit(tx, actor, this.ctx.clock(), 'api_key.deleted', { type: 'api_key', id: keyId }, { userId });
    });
  }

  /**
   * Replaces a key by a new one with the same name, in one step: the new key is returned once and the old
   * one stops working at once (deploy the new key first where a gap matters, or create and revoke).
   */
  async rotateApiKey(actor: Actor, userId: UserId, keyId: ApiKeyId): Promise<CreateApiKeyResult> {
    requireSelfOrAdmin(actor, userId);
    return this.ctx.store.transaction(async (tx) => {
      const old = (await tx.apiKeys.listForUser(userId)).find((k) => k.id === keyId);
      if (!old) throw notFound('API key', 'keyId');
      const made = await this.#makeApiKey(userId, old.name, tx);
      await tx.apiKeys.delete(userId, keyId);
      await recordAudit(tx, actor, this.ctx.clock(), 'api_key.rotated', { type: 'api_key', id: keyId }, {
        userId,
        name: old.name,
        newKeyId: made.apiKey.id,
        prefix: made.apiKey.prefix,
      });
      return made;
    });
  }

  async #makeApiKey(userId: UserId, name: string, store: Store = this.ctx.store): Promise<CreateApiKeyResult> {
    const key = newSecret(API_KEY_PREFIX);
    const now = this.ctx.clock();
    const record: ApiKeyRecord = {
      id: newId('apiKey', now),
      userId,
      name,
      prefix: key.slice(0, 10),
      hash: hashKey(key),
      createdAt: now,
      lastUsedAt: null,
    };
    await store.apiKeys.insert(record);
    return { apiKey: renderApiKey(record), key };
  }

  async #requireUser(userId: UserId): Promise<UserRecord> {
    const user = await this.ctx.store.users.get(userId);
    if (!user) throw notFound('User', 'userId');
    return user;
  }
}

export function toActor(user: UserRecord, scopes: readonly Scope[]): Actor {
  return { id: user.id, kind: user.kind, admin: user.admin, displayName: user.displayName, scopes };
}

/** Throws unless the actor is an admin using an admin-scoped credential. */
/** Commands are a bot's; each is offered once. */
function checkCommands(kind: UserRecord['kind'], commands: readonly BotCommand[]): void {
  if (kind !== 'bot') throw badRequest('Only bots offer commands', 'commands');
  const seen = new Set<string>();
  for (const [i, c] of commands.entries()) {
    if (seen.has(c.command)) throw badRequest(`"${c.command}" is listed twice`, `commands[${i}].command`);
    seen.add(c.command);
  }
}

export function requireAdmin(actor: Actor): void {
  if (!actsAsAdmin(actor)) throw forbidden('This needs an admin credential (admin user, admin scope)');
}

function requireSelfOrAdmin(actor: Actor, userId: UserId): void {
  if (actor.id !== userId) requireAdmin(actor);
}

function renderApiKey(k: ApiKeyRecord): ApiKey {
  return {
    id: k.id,
    userId: k.userId,
    name: k.name,
    prefix: k.prefix,
    createdAt: iso(k.createdAt),
    lastUsedAt: k.lastUsedAt === null ? null : iso(k.lastUsedAt),
  };
}
