import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  DeliveryParamsSchema,
  ListDeliveriesQuerySchema,
  PutWebhookRequestSchema,
  PutWebhookResultSchema,
  UserParamsSchema,
  WebhookDeliveryPageSchema,
  WebhookDeliverySchema,
  WebhookSchema,
} from '@parley/protocol';
import type { DeliveryId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { errorResponses, resolveUserId } from '../route-helpers.js';

const tags = ['webhooks'];
const NoContent = Type.Null({ description: 'No content' });

export function webhookRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { webhooks } = services;

  app.put(
    '/v1/users/:userId/webhook',
    {
      schema: {
        tags,
        summary: 'Create or replace a bot\'s webhook (the bot itself, `me`, or an admin); a new secret is returned once',
        params: UserParamsSchema,
        body: PutWebhookRequestSchema,
        response: { 200: PutWebhookResultSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    (request) => webhooks.put(request.auth.actor, resolveUserId(request, request.params.userId), request.body),
  );
  app.get(
    '/v1/users/:userId/webhook',
    {
      schema: {
        tags,
        summary: 'Get a bot\'s webhook (without its secret)',
        params: UserParamsSchema,
        response: { 200: WebhookSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    (request) => webhooks.get(request.auth.actor, resolveUserId(request, request.params.userId)),
  );
  app.delete(
    '/v1/users/:userId/webhook',
    {
      schema: {
        tags,
        summary: 'Remove a bot\'s webhook',
        params: UserParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    async (request, reply) => {
      await webhooks.delete(request.auth.actor, resolveUserId(request, request.params.userId));
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/v1/users/:userId/webhook/deliveries',
    {
      schema: {
        tags,
        summary: 'A bot\'s delivery log, newest first, by status (`pending`, `delivered`, `dead`)',
        params: UserParamsSchema,
        querystring: ListDeliveriesQuerySchema,
        response: { 200: WebhookDeliveryPageSchema, ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded') },
      },
    },
    (request) => webhooks.listDeliveries(request.auth.actor, resolveUserId(request, request.params.userId), request.query),
  );
  app.post(
    '/v1/users/:userId/webhook/deliveries/:deliveryId/retry',
    {
      schema: {
        tags,
        summary: 'Queue a dead-lettered delivery again, with a fresh set of attempts',
        params: DeliveryParamsSchema,
        response: { 200: WebhookDeliverySchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    (request) =>
      webhooks.retry(request.auth.actor, resolveUserId(request, request.params.userId), request.params.deliveryId as DeliveryId),
  );
  app.get(
    '/v1/webhook-deliveries',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: every bot\'s deliveries, newest first; `status=dead` is the dead-letter queue',
        querystring: ListDeliveriesQuerySchema,
        response: { 200: WebhookDeliveryPageSchema, ...errorResponses('forbidden', 'limit_exceeded') },
      },
    },
    (request) => webhooks.listDeliveries(request.auth.actor, undefined, request.query),
  );
}
