/**
 * services/: the use cases. Every rule that touches state lives here, authorisation included, so the
 * REST routes, the realtime gateway and the ACS compatibility routes share one path. Throws ParleyError;
 * never chooses an HTTP status. May import domain/, store/ (interfaces), bus/ and @parley/protocol;
 * never fastify, kysely, ioredis or http/.
 */
import type { Actor, UserId } from '../domain/index.js';
import { AttachmentService, type AttachmentOptions } from './attachment-service.js';
import { ConversationService } from './conversation-service.js';
import { EventService } from './event-service.js';
import { GroupService } from './group-service.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.js';
import { WebhookService } from './webhook-service.js';
import { IdentityService, requireAdmin, type IdentityOptions } from './identity-service.js';
import { MemberService } from './member-service.js';
import { MessageService } from './message-service.js';
import type { ServiceContext } from './service-context.js';
import { TokenBucketLimiter } from './rate-limiter.js';
import { RealtimeService } from './realtime-service.js';
import { SearchService } from './search-service.js';
import { AdminService } from './admin-service.js';

export type { ServiceContext } from './service-context.js';
export type { Authenticated, Credential, IdentityOptions } from './identity-service.js';
export type { SendResult } from './message-service.js';
export type { AttachmentDownload, AttachmentOptions, UploadRequest } from './attachment-service.js';
export type { EventPageJson } from './event-service.js';
export { ADMIN_USER_ID } from './identity-service.js';
export { SYSTEM_USER_ID } from './conversation-writer.js';
export { eventJson } from './render.js';
export { AdminService, SearchService };
export { signWebhook, type WebhookDispatcherOptions } from './webhook-dispatcher.js';
export { AttachmentService, ConversationService, EventService, GroupService, WebhookDispatcher, WebhookService, IdentityService, MemberService, MessageService, RealtimeService };
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
  readonly attachments: AttachmentService;
  readonly groups: GroupService;
  readonly webhooks: WebhookService;
  /** Queues and delivers bots' webhook events; started and closed by the server. */
  readonly webhookDispatcher: WebhookDispatcher;
  readonly search: SearchService;
  readonly admin: AdminService;
  /** Deletes an account: removes it from every conversation (with events), then the account and its keys. */
  deleteUser(actor: Actor, userId: UserId): Promise<void>;
}

export function createServices(
  ctx: ServiceContext,
  identityOptions: IdentityOptions,
  attachmentOptions: AttachmentOptions,
  webhookOptions: WebhookDispatcherOptions,
): Services {
  const limiter = new TokenBucketLimiter(ctx.limits.messageRatePerSecond, ctx.limits.messageBurst, ctx.clock);
  const identity = new IdentityService(ctx, identityOptions);
  const groups = new GroupService(ctx);
  const members = new MemberService(ctx, groups);
  const attachments = new AttachmentService(ctx, attachmentOptions);
  const messages = new MessageService(ctx, limiter, attachments);
  const conversations = new ConversationService(ctx, members, messages);
  const events = new EventService(ctx);
  const realtime = new RealtimeService(ctx, limiter);
  const webhookDispatcher = new WebhookDispatcher(ctx, webhookOptions);
  return {
    identity,
    conversations,
    members,
    messages,
    events,
    realtime,
    attachments,
    groups,
    webhooks: new WebhookService(ctx, (what) => {
      if (what === 'queued') webhookDispatcher.kick();
      else webhookDispatcher.refreshWebhooks().catch((err: unknown) => webhookOptions.onError(err, 'reading webhooks failed'));
    }),
    webhookDispatcher,
    search: new SearchService(ctx),
    admin: new AdminService(ctx),
    async deleteUser(actor, userId) {
      requireAdmin(actor);
      await identity.checkDeletable(actor, userId);
      await members.removeEverywhere(actor, userId);
      await identity.deleteUserRecord(actor, userId);
      ctx.bus.publish({ kind: 'session', userId, reason: 'deleted' });
    },
  };
}
