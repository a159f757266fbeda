import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AddGroupMembersRequestSchema,
  AddGroupMembersResultSchema,
  CreateGroupRequestSchema,
  CreateGroupResultSchema,
  GroupMemberPageSchema,
  GroupMemberParamsSchema,
  GroupPageSchema,
  GroupParamsSchema,
  GroupSchema,
  ListGroupsQuerySchema,
  ListMembersQuerySchema,
  UpdateGroupRequestSchema,
} from '@parley/protocol';
import type { GroupId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { errorResponses, resolveUserId } from '../route-helpers.js';

const tags = ['groups'];
const NoContent = Type.Null({ description: 'No content' });

export function groupRoutes(parent: FastifyInstance, services: Services): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { groups } = services;
  const gid = (p: { groupId: string }) => p.groupId as GroupId;

  app.post(
    '/v1/groups',
    {
      schema: {
        tags,
        summary: 'Create a group (private by default; bots create public ones only) with initial members',
        body: CreateGroupRequestSchema,
        response: { 201: CreateGroupResultSchema, ...errorResponses('forbidden', 'limit_exceeded') },
      },
    },
    async (request, reply) => reply.status(201).send(await groups.create(request.auth.actor, request.body)),
  );
  app.get(
    '/v1/groups',
    {
      schema: {
        tags,
        summary: 'List the groups the caller may see (admins: all), by visibility, exact name or membership',
        querystring: ListGroupsQuerySchema,
        response: { 200: GroupPageSchema, ...errorResponses('limit_exceeded') },
      },
    },
    (request) => groups.list(request.auth.actor, request.query),
  );
  app.get(
    '/v1/groups/:groupId',
    {
      schema: { tags, summary: 'Get a group', params: GroupParamsSchema, response: { 200: GroupSchema, ...errorResponses('not_found') } },
    },
    (request) => groups.get(request.auth.actor, gid(request.params)),
  );
  app.patch(
    '/v1/groups/:groupId',
    {
      schema: {
        tags,
        summary: 'Rename, describe or change the visibility of a group (owner or admin)',
        params: GroupParamsSchema,
        body: UpdateGroupRequestSchema,
        response: { 200: GroupSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    (request) => groups.update(request.auth.actor, gid(request.params), request.body),
  );
  app.delete(
    '/v1/groups/:groupId',
    {
      schema: {
        tags,
        summary: 'Delete a group (owner or admin); conversations keep the members it added',
        params: GroupParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) => {
      await groups.delete(request.auth.actor, gid(request.params));
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/v1/groups/:groupId/members',
    {
      schema: {
        tags,
        summary: 'List a group\'s members (skip/limit with limit <= 1000, or cursor)',
        params: GroupParamsSchema,
        querystring: ListMembersQuerySchema,
        response: { 200: GroupMemberPageSchema, ...errorResponses('not_found', 'limit_exceeded') },
      },
    },
    (request) => groups.listMembers(request.auth.actor, gid(request.params), request.query),
  );
  app.post(
    '/v1/groups/:groupId/members',
    {
      schema: {
        tags,
        summary: 'Add members (owner or admin); existing members stay; failures are reported per user',
        params: GroupParamsSchema,
        body: AddGroupMembersRequestSchema,
        response: { 200: AddGroupMembersResultSchema, ...errorResponses('forbidden', 'not_found', 'limit_exceeded') },
      },
    },
    (request) => groups.addMembers(request.auth.actor, gid(request.params), request.body),
  );
  app.delete(
    '/v1/groups/:groupId/members/:userId',
    {
      schema: {
        tags,
        summary: 'Remove a member (owner or admin), or leave (`me`)',
        params: GroupMemberParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found') },
      },
    },
    async (request, reply) => {
      await groups.removeMember(request.auth.actor, gid(request.params), resolveUserId(request, request.params.userId));
      return reply.status(204).send(null);
    },
  );
}
