import type { Conversation, CreateConversationResult, SendMessageRequest } from '@parley/protocol';
import type { PagedAsyncIterable, ParleyClient } from '@parley/sdk';

/** What a chat is created with: the Teamwire bot SDK's `create(title, users, groups, message)`. */
export interface CreateChatRequest {
  /** The chat's title. */
  title: string;
  /** Users to add (ids). */
  users?: readonly string[];
  /** Groups whose current members are added; a bot may use only public groups. */
  groups?: readonly string[];
  /** A first message. */
  message?: string | SendMessageRequest;
  /** Makes a retried create return the first chat. */
  idempotencyKey?: string;
}

/**
 * The bot's chats, as the Teamwire bot SDK names them: the conversations it belongs to, found by id or title,
 * and new ones with users, groups and a first message.
 */
export class BotChats {
  constructor(private readonly client: () => ParleyClient) {}

  /** Every conversation the bot belongs to (Teamwire `subscriptions`), most recently active first. */
  subscriptions(options: { maxPageSize?: number } = {}): PagedAsyncIterable<Conversation> {
    return this.client().listConversations({ sort: 'activity', ...options });
  }

  /** One conversation by id (Teamwire `get_by_id`). */
  byId(conversationId: string): Promise<Conversation> {
    return this.client().getConversation(conversationId);
  }

  /** The bot's conversations with exactly this title: several may share one (Teamwire `get_by_title`). */
  async byTitle(title: string): Promise<Conversation[]> {
    const found: Conversation[] = [];
    for await (const c of this.client().listConversations({ title })) found.push(c);
    return found;
  }

  /**
   * Creates a group chat with a title, users, groups and an optional first message (Teamwire `create`).
   * The chat is a `group` conversation: every member may invite others.
   */
  create(request: CreateChatRequest): Promise<CreateConversationResult> {
    const message = typeof request.message === 'string' ? { content: request.message } : request.message;
    return this.client().createConversation(
      {
        kind: 'group',
        title: request.title,
        ...(request.users ? { members: [...request.users] } : {}),
        ...(request.groups ? { groups: [...request.groups] } : {}),
        ...(message ? { message } : {}),
      },
      request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {},
    );
  }
}
