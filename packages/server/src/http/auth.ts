import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError, type Scope } from '@parley/protocol';
import type { Authenticated, IdentityService } from '../services/index.js';

/**
 * What a route needs: `none` (public), `any` (any valid credential), or a scope. Routes default to
 * `chat`, so forgetting to declare it fails closed.
 */
export type RouteAuth = 'none' | 'any' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    auth: Authenticated;
  }
}

/** Authenticates every request before its body is read, so unauthenticated uploads cost nothing. */
export function registerAuth(app: FastifyInstance, identity: IdentityService): void {
  app.decorateRequest('auth', null as unknown as Authenticated);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const need: RouteAuth = request.routeOptions.config.auth ?? 'chat';
    if (need === 'none' || request.routeOptions.url === undefined) return;
    request.auth = await identity.authenticate(request.headers.authorization);
    if (need !== 'any' && !request.auth.actor.scopes.includes(need)) {
      throw new ParleyError('forbidden', `This needs a credential with the "${need}" scope`, 'authorization');
    }
  });
}
