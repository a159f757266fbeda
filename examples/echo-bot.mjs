// A help/echo bot: `/echo <text>` says it back, `/help` lists the commands, a mention gets an answer.
//
//   WebSocket mode:  PARLEY_URL=http://127.0.0.1:8080 PARLEY_BOT_KEY=pk_… node examples/echo-bot.mjs
//   Webhook mode:    add PARLEY_WEBHOOK_PORT=3000 (the bot sets its webhook to http://127.0.0.1:3000/parley,
//                    or to PARLEY_WEBHOOK_URL when the server reaches it under another address)
import { makeBot, runBot } from './run-bot.mjs';

const bot = makeBot('echo');

bot.command('/echo', (ctx) => ctx.reply(ctx.command.text || 'Say something after /echo.'), {
  description: 'Say it back',
  usage: '<text>',
});
bot.on('mention', (ctx) => ctx.reply(`Hi ${ctx.message.senderDisplayName}! Try /help.`));
bot.on('member.added', async (ctx) => {
  if (ctx.event.data.member.userId === ctx.me.id) await ctx.reply('Hello! I repeat things: /echo <text>.');
});

await runBot(bot, 'echo bot');
