import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ParleyError, type Scope, type TokenResult } from '@parley/protocol';
import type { Actor, UserId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { AcsNotImplemented } from './acs-errors.js';
import { rawIdOf, userIdOf } from './acs-ids.js';
import {
  AcsAccessTokenSchema,
  AcsCreateIdentityRequestSchema,
  AcsIdentityParamsSchema,
  AcsIdentityResultSchema,
  AcsIssueTokenRequestSchema,
  AcsTeamsExchangeRequestSchema,
  AcsVersionQuerySchema,
} from './acs-schemas.js';
import { acsErrorResponses, NoContent, tags } from './acs-route-helpers.js';

const config = { acs: 'identity' } as const;
const security = [{ acsAccessKey: [] }];
/** ACS issues 24-hour tokens unless asked otherwise. */
const DEFAULT_TOKEN_MINUTES = 1440;

/**
 * The Parley scopes for requested ACS scopes. `chat` is Parley's chat scope; VoIP scopes are accepted
 * beside it and grant nothing (Parley has no calling); the `chat.join` scopes would need per-thread
 * tokens Parley does not have, and granting full chat instead would give more than was asked.
 */
function parleyScopes(scopes: readonly string[]): Scope[] {
  const limited = scopes.find((s) => s.startsWith('chat.join'));
  if (limited) throw new ParleyError('bad_request', `Parley does not issue the "${limited}" scope; ask for "chat"`, 'scopes');
  if (!scopes.includes('chat')) throw new ParleyError('bad_request', 'Tokens need the "chat" scope: Parley offers chat, not calling', 'scopes');
  return ['chat'];
}

const accessToken = (t: TokenResult) => ({ token: t.token, expiresOn: t.expiresAt });

/** The ACS identity API: ACS users are Parley humans, ACS tokens are Parley access tokens. */
export function acsIdentityRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { identity } = services;
  const user = (p: { id: string }): UserId => {
    const id = userIdOf(p.id);
    if (id === undefined) throw new ParleyError('not_found', 'Identity not found', 'id');
    return id;
  };
  const issue = (actor: Actor, userId: UserId, scopes: Scope[], minutes: number | undefined) =>
    identity.issueToken(actor, userId, { scopes, expiresInSeconds: (minutes ?? DEFAULT_TOKEN_MINUTES) * 60 });

  app.post(
    '/identities',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'ACS createUser / createUserAndToken: a new human user, with a token when scopes are given',
        querystring: AcsVersionQuerySchema,
        body: AcsCreateIdentityRequestSchema,
        response: { 201: AcsIdentityResultSchema, ...acsErrorResponses(403) },
      },
    },
    async (request, reply) => {
      const actor = request.auth.actor;
      const { createTokenWithScopes, expiresInMinutes } = request.body;
      // Refuse bad scopes before making a user nobody will get a token for.
      const scopes = createTokenWithScopes === undefined ? undefined : parleyScopes(createTokenWithScopes);
      const created = await identity.createUser(actor, { kind: 'human', handle: `acs-${randomBytes(8).toString('hex')}` });
      const token = scopes && (await issue(actor, created.user.id as UserId, scopes, expiresInMinutes));
      return reply.status(201).send({ identity: { id: rawIdOf(created.user.id) }, ...(token ? { accessToken: accessToken(token) } : {}) });
    },
  );

  app.post(
    '/identities/:id/::issueAccessToken',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'ACS getToken: a Parley access token (JWT) for the user, 60 to 1440 minutes (default 1440)',
        params: AcsIdentityParamsSchema,
        querystring: AcsVersionQuerySchema,
        body: AcsIssueTokenRequestSchema,
        response: { 200: AcsAccessTokenSchema, ...acsErrorResponses(403, 404) },
      },
    },
    async (request) => {
      const scopes = parleyScopes(request.body.scopes);
      return accessToken(await issue(request.auth.actor, user(request.params), scopes, request.body.expiresInMinutes));
    },
  );

  app.post(
    '/identities/:id/::revokeAccessTokens',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'ACS revokeTokens: every token issued to the user so far stops working at once',
        params: AcsIdentityParamsSchema,
        querystring: AcsVersionQuerySchema,
        response: { 204: NoContent, ...acsErrorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await identity.revokeTokens(request.auth.actor, user(request.params));
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/identities/:id',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'ACS deleteUser: the user leaves every thread, its tokens stop working; its messages stay',
        params: AcsIdentityParamsSchema,
        querystring: AcsVersionQuerySchema,
        response: { 204: NoContent, ...acsErrorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      await services.deleteUser(request.auth.actor, user(request.params));
      return reply.status(204).send(null);
    },
  );

  // Left out of the OpenAPI document on purpose: it has no success to describe, only the 501 that tells
  // the SDK this ACS feature does not exist here (docs/acs.md lists it).
  app.post(
    '/teamsUser/::exchangeAccessToken',
    {
      config,
      schema: {
        hide: true,
        tags,
        security,
        summary: 'ACS getTokenForTeamsUser: not offered (Parley has no Microsoft Teams identities); always 501',
        querystring: AcsVersionQuerySchema,
        body: AcsTeamsExchangeRequestSchema,
        response: acsErrorResponses(501),
      },
    },
    () => {
      throw new AcsNotImplemented('Parley does not exchange Microsoft Teams tokens: Teams users are not Parley users');
    },
  );
}
