// What both examples share: pick the delivery mode from the environment, run, and stop cleanly.
//
//   PARLEY_WEBHOOK_PORT unset  → WebSocket mode (bot.start()).
//   PARLEY_WEBHOOK_PORT=3000   → webhook mode: sets the bot's webhook to PARLEY_WEBHOOK_URL (default
//                                http://127.0.0.1:3000/parley) and serves it with bot.webhookHandler().
import { createServer } from 'node:http';
import { Bot } from '@parley/bot';

/** The bot, configured from PARLEY_URL and PARLEY_BOT_KEY; exits with a hint when the key is missing. */
export function makeBot(kind) {
  const { PARLEY_URL = 'http://127.0.0.1:8080', PARLEY_BOT_KEY } = process.env;
  if (!PARLEY_BOT_KEY) {
    console.error(`Set PARLEY_BOT_KEY to the bot's API key (npx parley admin user create ${kind} --kind bot prints one).`);
    process.exit(2);
  }
  return new Bot({ baseUrl: PARLEY_URL, apiKey: PARLEY_BOT_KEY });
}

/** Runs the bot in the mode the environment asks for, until SIGINT or SIGTERM. */
export async function runBot(bot, name) {
  const { PARLEY_WEBHOOK_PORT, PARLEY_WEBHOOK_URL } = process.env;
  bot.on('error', (err) => console.error('handler failed:', err));
  let server;
  if (PARLEY_WEBHOOK_PORT) {
    const { id } = await bot.init();
    const url = PARLEY_WEBHOOK_URL ?? `http://127.0.0.1:${PARLEY_WEBHOOK_PORT}/parley`;
    // Rotating on every start keeps the example self-contained; a real deployment keeps its secret.
    const { secret } = await bot.client.setWebhook(id, { url, rotateSecret: true });
    server = createServer(bot.webhookHandler({ secret })).listen(Number(PARLEY_WEBHOOK_PORT), '127.0.0.1');
    console.log(`${name}: webhook mode on ${url}`);
  } else {
    await bot.start();
    console.log(`${name}: WebSocket mode`);
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => {
      server?.close();
      await bot.stop();
      process.exit(0);
    });
  }
}
