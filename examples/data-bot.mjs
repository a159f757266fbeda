// A bot that answers commands with data from the server:
//   /stats            members, messages and activity of this conversation
//   /whois <handle>   who someone is (display name, kind, what a bot offers)
//
//   WebSocket mode:  PARLEY_URL=http://127.0.0.1:8080 PARLEY_BOT_KEY=pk_… node examples/data-bot.mjs
//   Webhook mode:    add PARLEY_WEBHOOK_PORT=3001 (and PARLEY_WEBHOOK_URL if the server sees another address)
import { makeBot, runBot } from './run-bot.mjs';

const bot = makeBot('stats');

bot.command(
  '/stats',
  async (ctx) => {
    const conversation = await ctx.conversation.get();
    const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);
    let today = 0;
    const senders = new Set();
    for await (const m of ctx.conversation.listMessages({ startTime: dayAgo, maxItems: 5000 })) {
      if (m.type === 'system' || m.deletedAt) continue;
      today += 1;
      senders.add(m.senderId);
    }
    await ctx.reply(
      [
        `${conversation.title ?? 'This conversation'} (${conversation.kind})`,
        `members: ${conversation.memberCount}`,
        `messages in the last 24 h: ${today} from ${senders.size} people`,
        `created: ${conversation.createdAt.slice(0, 10)}`,
      ].join('\n'),
    );
  },
  { description: 'Members and activity of this conversation' },
);

bot.command(
  '/whois',
  async (ctx) => {
    const handle = ctx.command.args[0]?.replace(/^@/, '');
    if (!handle) return ctx.reply('Usage: /whois <handle>');
    for await (const user of bot.client.listUsers({ handle, maxItems: 1 })) {
      const offers = user.commands.length > 0 ? `; offers ${user.commands.map((c) => c.command).join(', ')}` : '';
      return ctx.reply(`@${user.handle} is ${user.displayName} (${user.kind})${user.description ? `: ${user.description}` : ''}${offers}`);
    }
    return ctx.reply(`Nobody is called @${handle}.`);
  },
  { description: 'Who someone is', usage: '<handle>' },
);

await runBot(bot, 'data bot');
