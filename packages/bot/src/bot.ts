import type { IncomingMessage, ServerResponse } from 'node:http';
import { WEBHOOK_HEADERS, type BotCommand, type Message, type ParleyEvent, type ParleyEventType, type WebhookPayload } from '@parley/protocol';
import { ParleyClient, type ParleyClientOptions } from '@parley/sdk';
import { BotChats } from './bot-chats.js';
import { createContext, mentions, type BotContext, type BotIdentity } from './bot-context.js';
import { parseCommand } from './command-parser.js';
import { checkWebhookSignature, type WebhookRejection } from './webhook-signature.js';

/** Options of {@link Bot}. */
export interface BotOptions {
  /** The Parley server, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** The bot's API key. */
  apiKey: string;
  /** Retries, timeouts and realtime options of the underlying client. */
  client?: Omit<ParleyClientOptions, 'baseUrl' | 'token' | 'apiKey' | 'credential'>;
  /**
   * Publish the registered commands as the bot's profile when it starts (default true), so that clients
   * can offer them.
   */
  syncCommands?: boolean;
  /** Where handler errors go when no `error` handler is registered (default: console.error). */
  onError?: (error: unknown, ctx: BotContext | undefined) => void;
}

/** A handler of an event, a message or a command. */
export type BotHandler = (ctx: BotContext) => unknown;
/** Runs before the handlers of every event; call `next()` to go on, or do not to stop the event here. */
export type BotMiddleware = (ctx: BotContext, next: () => Promise<void>) => unknown;
/** What a command is registered with. */
export interface CommandOptions {
  /** One line for the help (default: none). */
  description?: string;
  /** The arguments, for the help: `<city> [days]`. */
  usage?: string;
}

/**
 * What {@link Bot.on} listens to: `message` (another member's message that is not a command), `mention`
 * (a message naming the bot), `command` (any command, after its own handler), or any event type
 * (`member.added`, `conversation.created`, …, seen exactly as they arrive).
 */
export type BotEventName = 'message' | 'mention' | 'command' | ParleyEventType;

/** Options of {@link Bot.webhookHandler}. */
export interface WebhookHandlerOptions {
  /** The webhook's signing secret (returned once when the webhook was set). */
  secret: string;
  /** Refuse requests signed more than this many seconds from now (default 300). */
  toleranceSeconds?: number;
}

/** The answer to a webhook request, for frameworks that build their own responses. */
export interface WebhookResult {
  status: number;
  body: { ok: true; duplicate?: boolean } | { error: string };
}

const SEEN_EVENTS = 10_000;
const MAX_WEBHOOK_BODY = 4 * 1024 * 1024;

/**
 * A Parley bot: commands with parsed arguments and a generated `/help`, handlers for messages, mentions
 * and any event, middleware, `ctx.reply()`, and the Teamwire-style `chats` API. Events arrive over the
 * WebSocket ({@link start}: reconnects and resumes by itself) or by signed webhook ({@link webhookHandler}).
 * A handler that throws is reported and never stops the bot. Events of one conversation are handled one
 * after the other, in order; conversations are handled side by side.
 *
 * @example
 * ```ts
 * const bot = new Bot({ baseUrl, apiKey });
 * bot.command('/echo', (ctx) => ctx.reply(ctx.command!.text), { description: 'Say it back', usage: '<text>' });
 * bot.on('mention', (ctx) => ctx.reply('You called?'));
 * await bot.start();
 * ```
 */
export class Bot {
  /** The Teamwire-style chats API: subscriptions, byId, byTitle, create. */
  readonly chats: BotChats;
  readonly #options: BotOptions;
  readonly #client: ParleyClient;
  readonly #commands = new Map<string, { handler: BotHandler; options: CommandOptions }>();
  readonly #handlers = new Map<BotEventName | 'error', Set<(ctx: BotContext) => unknown>>();
  readonly #errorHandlers = new Set<(error: unknown, ctx: BotContext | undefined) => unknown>();
  readonly #middleware: BotMiddleware[] = [];
  readonly #queues = new Map<string, Promise<void>>();
  readonly #seen = new Set<string>();
  #me: Promise<BotIdentity> | undefined;
  #stop: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #stopped = false;

  constructor(options: BotOptions) {
    this.#options = options;
    this.#client = new ParleyClient({ ...options.client, baseUrl: options.baseUrl, apiKey: options.apiKey });
    this.chats = new BotChats(() => this.#client);
  }

  /** The underlying SDK client, for everything else the API offers. */
  get client(): ParleyClient {
    return this.#client;
  }

  /** Registers a command (`/name`); its handler gets `ctx.command` with the parsed arguments. */
  command(name: string, handler: BotHandler, options: CommandOptions = {}): this {
    const key = name.toLowerCase();
    if (!/^\/[a-z0-9][a-z0-9_-]{0,31}$/.test(key)) throw new TypeError(`"${name}" is not a command name: a slash and up to 32 of a-z, 0-9, _ and -`);
    this.#commands.set(key, { handler, options });
    return this;
  }

  /** Registers a handler; returns the function that removes it. */
  on(event: BotEventName, handler: BotHandler): () => void;
  /** Registers an error handler; without one, errors go to `onError` (default console.error). */
  on(event: 'error', handler: (error: unknown, ctx: BotContext | undefined) => unknown): () => void;
  on(event: BotEventName | 'error', handler: ((ctx: BotContext) => unknown) | ((error: unknown, ctx: BotContext | undefined) => unknown)): () => void {
    if (event === 'error') {
      const h = handler as (error: unknown, ctx: BotContext | undefined) => unknown;
      this.#errorHandlers.add(h);
      return () => this.#errorHandlers.delete(h);
    }
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    const h = handler as (ctx: BotContext) => unknown;
    set.add(h);
    return () => set.delete(h);
  }

  /** Adds middleware, run in the order added before the handlers of every event. */
  use(middleware: BotMiddleware): this {
    this.#middleware.push(middleware);
    return this;
  }

  /** The commands offered, `/help` included, as published to the bot's profile. */
  get commands(): BotCommand[] {
    const list: BotCommand[] = [];
    if (!this.#commands.has('/help')) list.push({ command: '/help', description: 'What I can do' });
    for (const [command, { options }] of this.#commands) {
      list.push({ command, description: options.description ?? '', ...(options.usage !== undefined ? { usage: options.usage } : {}) });
    }
    return list;
  }

  /** Who the bot is; fetched once, which also checks the API key. */
  me(): Promise<BotIdentity> {
    this.#me ??= this.#client.getMe().then(({ user }) => ({ id: user.id, handle: user.handle, displayName: user.displayName }));
    this.#me.catch(() => (this.#me = undefined));
    return this.#me;
  }

  /** Checks the key and publishes the commands; {@link start} and the webhook handler call it. */
  async init(): Promise<BotIdentity> {
    const me = await this.me();
    if (this.#options.syncCommands !== false) await this.#client.updateUser('me', { commands: this.commands });
    return me;
  }

  /**
   * WebSocket mode: connects, and handles every event from then on until {@link stop}. Reconnects and
   * resumes by itself after a network failure, so nothing is missed or handled twice.
   */
  async start(): Promise<void> {
    if (this.#stopped) throw new Error('A stopped bot cannot start again; make a new one');
    if (this.#loop) throw new Error('The bot is already started');
    await this.init();
    this.#stop = new AbortController();
    const events = this.#client.events({ signal: this.#stop.signal });
    await this.#client.connect();
    this.#loop = (async () => {
      for await (const event of events) this.#enqueue(event);
    })();
  }

  /** Stops receiving, waits for the handlers still running, and closes the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop?.abort();
    await this.#loop?.catch(() => undefined);
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()]);
    await this.#client.close();
  }

  /**
   * Handles one event as if it had arrived (webhook frameworks other than the built-in ones call this
   * after checking the signature). Resolves when its handlers are done. An event seen before is skipped:
   * webhooks deliver at least once.
   */
  async handleEvent(event: ParleyEvent): Promise<{ duplicate: boolean }> {
    if (this.#seen.has(event.id)) return { duplicate: true };
    await this.#enqueue(event);
    return { duplicate: false };
  }

  /**
   * Checks and handles one webhook request given its raw body and headers: 401 for a missing, malformed,
   * stale or wrong signature, 400 for a body that is no delivery, else 200 once the handlers are done.
   */
  async handleWebhook(rawBody: string | Uint8Array, headers: Record<string, string | string[] | undefined>, options: WebhookHandlerOptions): Promise<WebhookResult> {
    const header = headers[WEBHOOK_HEADERS.SIGNATURE];
    const rejection: WebhookRejection | null = checkWebhookSignature({ header: Array.isArray(header) ? header[0] : header, rawBody }, options.secret, options);
    if (rejection) return { status: 401, body: { error: rejection } };
    let payload: WebhookPayload;
    try {
      payload = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8')) as WebhookPayload;
      if (typeof payload?.event?.id !== 'string' || typeof payload.event.conversationId !== 'string') throw new Error('no event');
    } catch {
      return { status: 400, body: { error: 'not_a_delivery' } };
    }
    await this.me();
    const { duplicate } = await this.handleEvent(payload.event);
    return { status: 200, body: duplicate ? { ok: true, duplicate: true } : { ok: true } };
  }

  /**
   * A request listener for `node:http` and Express (mount it before any body parser, or after
   * `express.raw({ type: 'application/json' })`): checks the signature over the raw body, handles the event
   * and answers.
   *
   * @example
   * ```ts
   * http.createServer(bot.webhookHandler({ secret })).listen(3000);
   * app.post('/parley', bot.webhookHandler({ secret }));           // Express
   * ```
   */
  webhookHandler(options: WebhookHandlerOptions): (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => void {
    return (req, res) => {
      void (async () => {
        let result: WebhookResult;
        try {
          const raw = Buffer.isBuffer(req.body) ? req.body : typeof req.body === 'string' ? req.body : req.body === undefined ? await readBody(req) : undefined;
          result =
            req.method !== 'POST'
              ? { status: 405, body: { error: 'method_not_allowed' } }
              : raw === undefined
                ? { status: 400, body: { error: 'body_already_parsed: mount the handler before JSON body parsers, or use express.raw()' } }
                : await this.handleWebhook(raw, req.headers, options);
        } catch (err) {
          result = { status: err instanceof BodyTooLarge ? 413 : 500, body: { error: err instanceof BodyTooLarge ? 'body_too_large' : 'internal' } };
          if (!(err instanceof BodyTooLarge)) this.#report(err, undefined);
        }
        res.writeHead(result.status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body));
      })();
    };
  }

  /**
   * A Fastify plugin that serves the webhook at `path` (default `/`), reading the raw body itself.
   *
   * @example
   * ```ts
   * await app.register(bot.fastifyWebhook({ secret, path: '/parley' }));
   * ```
   */
  fastifyWebhook(options: WebhookHandlerOptions & { path?: string }): FastifyPluginLike {
    const plugin = async (app: FastifyLike) => {
      // Inside this plugin only (Fastify encapsulates it), JSON arrives as the raw bytes the signature covers.
      app.removeContentTypeParser('application/json');
      app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: MAX_WEBHOOK_BODY }, (_req, body, done) => done(null, body));
      app.post(options.path ?? '/', async (request, reply) => {
        const result = await this.handleWebhook(request.body as Buffer, request.headers, options);
        return reply.code(result.status).send(result.body);
      });
    };
    return plugin;
  }

  // ---- dispatch ------------------------------------------------------------------------------------

  /** Queues an event behind the others of its conversation. */
  #enqueue(event: ParleyEvent): Promise<void> {
    this.#remember(event.id);
    const key = event.conversationId;
    const run = (this.#queues.get(key) ?? Promise.resolve()).then(() => this.#dispatch(event));
    this.#queues.set(key, run);
    void run.finally(() => {
      if (this.#queues.get(key) === run) this.#queues.delete(key);
    });
    return run;
  }

  #remember(id: string): void {
    this.#seen.add(id);
    if (this.#seen.size > SEEN_EVENTS) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  async #dispatch(event: ParleyEvent): Promise<void> {
    let ctx: BotContext | undefined;
    try {
      const me = await this.me();
      const message: Message | undefined = event.type === 'message.created' ? event.data.message : undefined;
      // The bot's own messages come back as events too: never answer them.
      const own = message !== undefined && message.senderId === me.id;
      const handlesText = message !== undefined && !own && (message.type === 'text' || message.type === 'html');
      const command = handlesText ? parseCommand(message.type === 'html' ? stripTags(message.content) : message.content) : undefined;
      const forMe = command !== undefined && (command.addressedTo === undefined || command.addressedTo.toLowerCase() === me.handle.toLowerCase());
      ctx = createContext({
        event,
        conversation: this.#client.conversation(event.conversationId),
        me,
        message,
        command: forMe ? command : undefined,
        mentioned: handlesText && mentions(message, me),
      });
      const current = ctx;
      await this.#runMiddleware(current, async () => {
        await this.#emit(event.type, current);
        if (!handlesText) return;
        if (current.command) await this.#runCommand(current);
        else if (command === undefined) await this.#emit('message', current);
        if (current.mentioned) await this.#emit('mention', current);
      });
    } catch (err) {
      this.#report(err, ctx);
    }
  }

  async #runMiddleware(ctx: BotContext, last: () => Promise<void>): Promise<void> {
    const step = async (i: number): Promise<void> => {
      const mw = this.#middleware[i];
      if (!mw) return last();
      let called = false;
      await mw(ctx, () => {
        if (called) return Promise.reject(new Error('next() called twice'));
        called = true;
        return step(i + 1);
      });
    };
    await step(0);
  }

  async #runCommand(ctx: BotContext): Promise<void> {
    const name = ctx.command!.name;
    const registered = this.#commands.get(name);
    if (registered) await this.#guard(ctx, registered.handler);
    else if (name === '/help') await this.#guard(ctx, (c) => c.reply(this.#help()));
    else await this.#guard(ctx, (c) => c.reply(`I don't know ${name}. Try /help.`));
    await this.#emit('command', ctx);
  }

  /** Runs each handler of an event name; one that throws is reported and the others still run. */
  async #emit(name: BotEventName, ctx: BotContext): Promise<void> {
    for (const handler of this.#handlers.get(name) ?? []) await this.#guard(ctx, handler);
  }

  async #guard(ctx: BotContext, handler: BotHandler): Promise<void> {
    try {
      await handler(ctx);
    } catch (err) {
      this.#report(err, ctx);
    }
  }

  #report(error: unknown, ctx: BotContext | undefined): void {
    if (this.#errorHandlers.size === 0) {
      (this.#options.onError ?? ((e) => console.error('[parley bot] handler failed:', e)))(error, ctx);
      return;
    }
    for (const h of this.#errorHandlers) {
      try {
        void Promise.resolve(h(error, ctx)).catch(() => undefined);
      } catch {
        // An error handler that throws has nowhere left to report to.
      }
    }
  }

  #help(): string {
    const lines = this.commands.map((c) => `${c.command}${c.usage ? ` ${c.usage}` : ''}${c.description ? ` — ${c.description}` : ''}`);
    return `Commands:\n${lines.join('\n')}`;
  }
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_WEBHOOK_BODY) throw new BodyTooLarge('The request body is too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function stripTags(html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"');
}

/** The part of Fastify the plugin uses (the bot package does not depend on Fastify). */
export interface FastifyLike {
  removeContentTypeParser(type: string): unknown;
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer'; bodyLimit: number },
    parser: (req: unknown, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void,
  ): unknown;
  post(
    path: string,
    handler: (
      request: { body: unknown; headers: Record<string, string | string[] | undefined> },
      reply: { code(status: number): { send(body: unknown): unknown } },
    ) => Promise<unknown>,
  ): unknown;
}
export type FastifyPluginLike = (app: FastifyLike) => Promise<void>;
