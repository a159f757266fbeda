import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { Message, Page } from '@parley/protocol';
import type { ParleyServer } from '@parley/server';
import { LatencyHistogram, type HistogramSnapshot } from './latency-histogram.js';

type Services = ParleyServer['services'];
type UserId = Parameters<Services['identity']['issueToken']>[1];
type ConversationId = Parameters<Services['messages']['send']>[1];

/** The conversation the history scenario filled, and a member's token to read it. */
export interface FilledHistory {
  conversationId: string;
  token: string;
  messages: number;
  fillSeconds: number;
}

const PAGE = 50;
const WARMUP_REQUESTS = 200;
const FILL_CONCURRENCY = 200;

/**
 * Fills one room with `messages` messages through the server's own send path (services, in process:
 * validation, seq, event log and all, without HTTP), which is the fastest way that leaves the store
 * exactly as real sends would, with {@link FILL_CONCURRENCY} sends in flight.
 */
export async function fillHistory(server: ParleyServer, messages: number, progress: (done: number) => void): Promise<FilledHistory> {
  const { identity, conversations, messages: sender } = server.services;
  const admin = (await identity.authenticate(`Bearer ${server.secrets.adminKey}`)).actor;
  const created = await identity.createUser(admin, { kind: 'human', handle: `bench-history-${randomBytes(4).toString('hex')}`, displayName: 'History writer' });
  const token = await identity.issueToken(admin, created.user.id as UserId, { scopes: ['chat'], expiresInSeconds: 86_400 });
  const writer = (await identity.authenticate(`Bearer ${token.token}`)).actor;
  const room = await conversations.create(writer, { kind: 'room', title: 'Bench history' });
  const conversationId = room.conversation.id as ConversationId;
  const started = Date.now();
  // Several sends in flight at once, as many clients would have: the store commits those that arrive
  // together in one transaction (group commit), so the fill goes at the batched rate. One writer's sends
  // to one conversation still get seqs in the order they were made.
  let next = 1;
  const writeSome = async (): Promise<void> => {
    for (let i = next++; i <= messages; i = next++) {
      await sender.send(writer, conversationId, { content: `History message ${i}: the quick brown fox jumps over the lazy dog` });
      if (i % 50_000 === 0) progress(i);
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, writeSome));
  return { conversationId, token: token.token, messages, fillSeconds: (Date.now() - started) / 1000 };
}

export interface PageTiming {
  page: 'latest' | 'deep';
  histogram: LatencyHistogram;
  /** Answers that were not a full page of 50 (a wrong answer, not a slow one). */
  shortPages: number;
}

/**
 * Times `samples` sequential requests for the newest page of 50 and as many for a page of 50 at a
 * random depth (`before=<seq>` anywhere in the history): service time over loopback HTTP with a kept-alive
 * connection, one request at a time, after a few unmeasured ones.
 */
export async function timeHistoryPages(url: string, history: FilledHistory, samples: number): Promise<PageTiming[]> {
  const headers = { authorization: `Bearer ${history.token}` };
  const base = `${url}/v1/conversations/${encodeURIComponent(history.conversationId)}/messages?limit=${PAGE}`;
  // The room's first messages are system ones (created); a deep page starts well past them.
  const deepest = Math.max(PAGE + 2, history.messages);
  let seed = 12345;
  const nextRandom = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const kinds: { page: 'latest' | 'deep'; query: () => string }[] = [
    { page: 'latest', query: () => '' },
    { page: 'deep', query: () => `&before=${PAGE + 2 + Math.floor(nextRandom() * (deepest - PAGE - 1))}` },
  ];
  const timings: PageTiming[] = [];
  // One kept-alive connection. node:http rather than fetch: fetch's own work per request (about half a
  // millisecond, and its garbage) would be counted as the server's.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (const kind of kinds) {
    const histogram = new LatencyHistogram();
    let shortPages = 0;
    for (let i = 0; i < WARMUP_REQUESTS + samples; i += 1) {
      const started = performance.now();
      const res = await getJson(agent, base + kind.query(), headers);
      const elapsed = performance.now() - started;
      const body = JSON.parse(res.text) as Page<Message>;
      if (res.status !== 200) throw new Error(`GET messages answered ${res.status}: ${res.text.slice(0, 300)}`);
      if (i < WARMUP_REQUESTS) continue;
      histogram.recordMs(elapsed);
      if (body.items.length !== PAGE) shortPages += 1;
    }
    timings.push({ page: kind.page, histogram, shortPages });
  }
  agent.destroy();
  return timings;
}

/** GETs `url` and reads the whole body as text; the timing stops when the last byte is in. */
function getJson(agent: Agent, url: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * {@link timeHistoryPages} in a worker thread of its own (`threads` > 0), or in this one. The bench's
 * own heap holds what the in-process fill left behind; its collections would land in the timings.
 */
export async function timeHistoryPagesApart(url: string, history: FilledHistory, samples: number, threads: number): Promise<PageTiming[]> {
  if (threads === 0) return timeHistoryPages(url, history, samples);
  const worker = new Worker(new URL('./history-worker.js', import.meta.url), { workerData: { url, history, samples } });
  try {
    const reply = await new Promise<{ page: PageTiming['page']; histogram: HistogramSnapshot; shortPages: number }[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the history timing thread exited (${code}) without its figures`)));
    });
    return reply.map((t) => ({ page: t.page, histogram: LatencyHistogram.from(t.histogram), shortPages: t.shortPages }));
  } finally {
    await worker.terminate();
  }
}
