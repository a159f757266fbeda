// A help/echo bot: `/echo <text>` says it back, `/help` lists the commands, a mention gets an answer.
//
//   WebSocket mode:  PARLEY_URL=http://127.0.0.1:8080 PARLEY_BOT_KEY=pk_… node examples/echo-bot.mjs
//   Webhook mode:    add PARLEY_WEBHOOK_PORT=3000 (the bot sets its webhook to http://127.0.0.1:3000/parley,
//                    or to PARLEY_WEBHOOK_URL when the server reaches it under another address)
import { createServer } from 'node:http';
import { Bot } from '@parley/bot';

const { PARLEY_URL = 'http://127.0.0.1:8080', PARLEY_BOT_KEY, PARLEY_WEBHOOK_PORT, PARLEY_WEBHOOK_URL } = process.env;
if (!PARLEY_BOT_KEY) {
  console.error('Set PARLEY_BOT_KEY to the bot\'s API key (npx parley admin user create echo --kind bot prints one).');
  process.exit(2);
}

const bot = new Bot({ baseUrl: PARLEY_URL, apiKey: PARLEY_BOT_KEY });

bot.command('/echo', (ctx) => ctx.reply(ctx.command.text || 'Say something after /echo.'), {
  description: 'Say it back',
  usage: '<text>',
});
bot.on('mention', (ctx) => ctx.reply(`Hi ${ctx.message.senderDisplayName}! Try /help.`));
bot.on('member.added', async (ctx) => {
  if (ctx.event.data.member.userId === ctx.me.id) await ctx.reply('Hello! I repeat things: /echo <text>.');
});
bot.on('error', (err) => console.error('handler failed:', err));

let server;
if (PARLEY_WEBHOOK_PORT) {
  const { id } = await bot.init();
  const url = PARLEY_WEBHOOK_URL ?? `http://127.0.0.1:${PARLEY_WEBHOOK_PORT}/parley`;
  // Rotating on every start keeps the example self-contained; a real deployment stores the secret.
  const { secret } = await bot.client.setWebhook(id, { url, rotateSecret: true });
  server = createServer(bot.webhookHandler({ secret })).listen(Number(PARLEY_WEBHOOK_PORT), '127.0.0.1');
  console.log(`echo bot: webhook mode on ${url}`);
} else {
  await bot.start();
  console.log('echo bot: WebSocket mode');
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    server?.close();
    await bot.stop();
    process.exit(0);
  });
}
