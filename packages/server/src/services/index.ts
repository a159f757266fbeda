/**
 * services/: the use cases. Every rule that touches state lives here, authorisation included, so the
 * REST routes, the realtime gateway and the ACS compatibility routes share one path. Throws ParleyError;
 * never chooses an HTTP status. May import domain/, store/ (interfaces), bus/ and @parley/protocol;
 * never fastify, kysely, ioredis or http/.
 */
import type { Actor, UserId } from '../domain/index.js';
import { ConversationService } from './conversation-service.js';
import { EventService } from './event-service.js';
import { IdentityService, requireAdmin, type IdentityOptions } from './identity-service.js';
import { MemberService } from './member-service.js';
import { MessageService } from './message-service.js';
import type { ServiceContext } from './service-context.js';
import { TokenBucketLimiter } from './rate-limiter.js';
import { RealtimeService } from './realtime-service.js';

export type { ServiceContext } from './service-context.js';
export type { Authenticated, Credential, IdentityOptions } from './identity-service.js';
export type { SendResult } from './message-service.js';
export type { EventPageJson } from './event-service.js';
export { ADMIN_USER_ID } from './identity-service.js';
export { SYSTEM_USER_ID } from './conversation-writer.js';
export { eventJson } from './render.js';
export { ConversationService, EventService, IdentityService, MemberService, MessageService, RealtimeService };
export { visibilityOf } from './access.js';
export type { CallerView } from './render.js';

/** Every service, wired together. */
export interface Services {
  readonly identity: IdentityService;
  readonly conversations: ConversationService;
  readonly members: MemberService;
  readonly messages: MessageService;
  readonly events: EventService;
  readonly realtime: RealtimeService;
  /** Deletes an account: removes it from every conversation (with events), then the account and its keys. */
  deleteUser(actor: Actor, userId: UserId): Promise<void>;
}

export function createServices(ctx: ServiceContext, identityOptions: IdentityOptions): Services {
  const limiter = new TokenBucketLimiter(ctx.limits.messageRatePerSecond, ctx.limits.messageBurst, ctx.clock);
  const identity = new IdentityService(ctx, identityOptions);
  const members = new MemberService(ctx);
  const messages = new MessageService(ctx, limiter);
  const conversations = new ConversationService(ctx, members, messages);
  const events = new EventService(ctx);
  const realtime = new RealtimeService(ctx, limiter);
  return {
    identity,
    conversations,
    members,
    messages,
    events,
    realtime,
    async deleteUser(actor, userId) {
      requireAdmin(actor);
      await identity.checkDeletable(actor, userId);
      await members.removeEverywhere(actor, userId);
      await identity.deleteUserRecord(actor, userId);
      ctx.bus.publish({ kind: 'session', userId, reason: 'deleted' });
    },
  };
}
