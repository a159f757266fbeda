import type { Message, ParleyEvent, SendMessageRequest } from '@parley/protocol';
import type { ConversationClient, SendMessageOptions } from '@parley/sdk';
import type { ParsedCommand } from './command-parser.js';

/** Who the bot is, as the server knows it. */
export interface BotIdentity {
  id: string;
  handle: string;
  displayName: string;
}

/**
 * What a handler gets: the event, the conversation it happened in, and `reply()`. For messages also the
 * message, and for commands the parsed command.
 */
export interface BotContext {
  /** The event being handled. */
  readonly event: ParleyEvent;
  /** The conversation of the event. */
  readonly conversationId: string;
  /** A client for the event's conversation: members, messages, typing, receipts. */
  readonly conversation: ConversationClient;
  /** The bot itself. */
  readonly me: BotIdentity;
  /** The message, for `message.created` events. */
  readonly message: Message | undefined;
  /** The command, when the message is one (`/name args…`). */
  readonly command: ParsedCommand | undefined;
  /** Whether the message mentions the bot (`@handle`). */
  readonly mentioned: boolean;
  /** Scratch space shared by the middleware and handlers of this one event. */
  readonly state: Record<string, unknown>;
  /** Sends a message to the event's conversation. */
  reply(content: string | SendMessageRequest, options?: SendMessageOptions): Promise<Message>;
}

export function createContext(init: {
  event: ParleyEvent;
  conversation: ConversationClient;
  me: BotIdentity;
  message: Message | undefined;
  command: ParsedCommand | undefined;
  mentioned: boolean;
}): BotContext {
  return {
    ...init,
    conversationId: init.event.conversationId,
    state: {},
    reply: (content, options) => init.conversation.sendMessage(content, options),
  };
}

/** Does the message mention the bot? The server resolves `@handle` mentions of members into the message. */
export function mentions(message: Message, me: BotIdentity): boolean {
  return message.mentions.some((m) => m.userId === me.id);
}
