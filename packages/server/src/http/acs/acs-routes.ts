import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/protocol';
import type { Authenticated, Services } from '../../services/index.js';
import { AcsNotImplemented, acsErrorHandler } from './acs-errors.js';
import { chatRoute, tags } from './acs-route-helpers.js';
import { AcsErrorSchema } from './acs-schemas.js';
import { verifyAcsSignature } from './acs-hmac.js';
import { acsIdentityRoutes } from './acs-identity-routes.js';
import { acsMessageRoutes } from './acs-message-routes.js';
import { acsThreadRoutes } from './acs-thread-routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which ACS door a route belongs to: chat (bearer token) or identity (access-key HMAC). */
    acs?: 'chat' | 'identity';
  }
  interface FastifyRequest {
    /** The request body exactly as received, for the HMAC content hash. */
    acsRawBody?: string;
  }
}

export interface AcsRoutesOptions {
  services: Services;
  /** The access key of the identity API (base64). */
  accessKey: string;
}

const JSON_TYPES = ['application/json', 'application/merge-patch+json'];

/**
 * The Azure Communication Services compatibility door: the official ACS Chat and Identity SDKs work
 * against these routes unmodified. Every route calls the same services as the Parley API; this layer
 * only translates identifiers, shapes and error bodies. Register it in its own scope: it replaces the
 * JSON parser (to keep the raw body) and the error handler (ACS error shape) for its routes only.
 */
export async function acsRoutes(scope: FastifyInstance, options: AcsRoutesOptions): Promise<void> {
  const { services, accessKey } = options;

  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    request.acsRawBody = text;
    // The identity SDK posts an empty body with a JSON content type to create a user.
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(new ParleyError('bad_request', 'The body is not valid JSON', 'body'), undefined);
    }
  });
  scope.setErrorHandler(acsErrorHandler);
  scope.decorateRequest('auth', null as unknown as Authenticated);

  // Chat: bearer token, checked before the body is read, as on the Parley API.
  scope.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config.acs !== 'chat') return;
    request.auth = await services.identity.authenticate(request.headers.authorization);
    if (!request.auth.actor.scopes.includes('chat')) {
      throw new ParleyError('forbidden', 'This needs a token with the "chat" scope', 'authorization');
    }
  });
  // Identity: the signature covers the body, so it is checked once the body is in.
  scope.addHook('preValidation', async (request: FastifyRequest) => {
    if (request.routeOptions.config.acs !== 'identity') return;
    verifyAcsSignature(
      { method: request.method, url: request.raw.url ?? request.url, headers: request.headers, rawBody: request.acsRawBody ?? '' },
      accessKey,
      Date.now(),
    );
    request.auth = await services.identity.authenticateAdmin();
  });

  acsIdentityRoutes(scope, services);
  acsThreadRoutes(scope, services);
  acsMessageRoutes(scope, services);

  // The browser SDK's realtime bootstrap: answer at once and clearly instead of a generic 404. Left out
  // of the OpenAPI document like getTokenForTeamsUser: a route that only ever says "not here".
  scope.get(
    '/chat/config/realTimeNotifications',
    {
      config: chatRoute,
      schema: {
        hide: true,
        tags,
        summary: 'ACS realtime notification configuration (browser SDK): not available on Parley, always 501',
        response: { 501: AcsErrorSchema },
      },
    },
    () => {
      throw new AcsNotImplemented('ACS realtime notifications (Trouter) are not available on Parley: use the Parley realtime API (see docs/acs.md)');
    },
  );
}
