/**
 * @packageDocumentation
 * The Parley bot framework: `new Bot({ baseUrl, apiKey })`, commands with parsed arguments and a generated
 * help, handlers for messages, mentions and any event, middleware and `ctx.reply()`; events over the
 * WebSocket (`bot.start()`) or by signed webhook (`bot.webhookHandler()` for node:http and Express,
 * `bot.fastifyWebhook()` for Fastify); and the Teamwire-style `bot.chats` API.
 */
export {
  Bot,
  type BotOptions,
  type BotHandler,
  type BotMiddleware,
  type BotEventName,
  type CommandOptions,
  type WebhookHandlerOptions,
  type WebhookResult,
  type FastifyLike,
  type FastifyPluginLike,
} from './bot.js';
export type { BotContext, BotIdentity } from './bot-context.js';
export { BotChats, type CreateChatRequest } from './bot-chats.js';
export { parseCommand, type ParsedCommand } from './command-parser.js';
export { checkWebhookSignature, DEFAULT_TOLERANCE_SECONDS, type WebhookRejection } from './webhook-signature.js';
