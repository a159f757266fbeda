import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AdminConversationPageSchema,
  AuditPageSchema,
  ConversationParamsSchema,
  ConversationSchema,
  ListAdminConversationsQuerySchema,
  ListAuditLogQuerySchema,
  ListMembersQuerySchema,
  MemberPageSchema,
} from '@parley/protocol';
import type { ConversationId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { errorResponses } from '../route-helpers.js';

const tags = ['admin'];

export function adminRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { admin } = services;
  const id = (p: { conversationId: string }) => p.conversationId as ConversationId;

  app.get(
    '/v1/admin/conversations',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: every conversation of every kind; filter by kind, state, creator, times and member count; sorted; paged',
        querystring: ListAdminConversationsQuerySchema,
        response: { 200: AdminConversationPageSchema, ...errorResponses('forbidden', 'limit_exceeded') },
      },
    },
    (request) => admin.listConversations(request.auth.actor, request.query),
  );
  app.get(
    '/v1/admin/conversations/:conversationId/members',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: the members of any conversation (skip/limit with limit <= 1000, or cursor)',
        params: ConversationParamsSchema,
        querystring: ListMembersQuerySchema,
        response: { 200: MemberPageSchema, ...errorResponses('forbidden', 'not_found', 'limit_exceeded') },
      },
    },
    (request) => services.members.list(request.auth.actor, id(request.params), request.query, { asAdmin: true }),
  );
  for (const [action, active] of [
    ['deactivate', false],
    ['reactivate', true],
  ] as const) {
    app.post(
      `/v1/admin/conversations/:conversationId/${action}`,
      {
        config: { auth: 'admin' },
        schema: {
          tags,
          summary: `Admin: ${action} any room (audited)`,
          params: ConversationParamsSchema,
          response: { 200: ConversationSchema, ...errorResponses('forbidden', 'not_found', 'conflict') },
        },
      },
      (request) => services.conversations.setActive(request.auth.actor, id(request.params), active, { asAdmin: true }),
    );
  }
  app.get(
    '/v1/admin/audit-log',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Admin: the audit log, newest first; filter by actor, action (or `user.*`), target and time',
        querystring: ListAuditLogQuerySchema,
        response: { 200: AuditPageSchema, ...errorResponses('forbidden', 'limit_exceeded') },
      },
    },
    (request) => admin.listAudit(request.auth.actor, request.query),
  );
}
