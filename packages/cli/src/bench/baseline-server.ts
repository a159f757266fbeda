import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { WebSocketServer, type WebSocket } from 'ws';

/** The running baseline: `url` is its WebSocket address (`ws://host:port`). */
export interface BaselineServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface BaselineOptions {
  host: string;
  port: number;
  /** The SQLite file (its directory is created). */
  dbPath: string;
}

/**
 * The baseline the bench compares Parley with: the least a fan-out server can do and still be a chat
 * server, written for the purpose. Plain `ws`, no authentication, no validation, no permissions: a
 * connection names its room in the query string (`/?room=r3`); each `send` frame is inserted into SQLite
 * (better-sqlite3, WAL, synchronous=NORMAL: Parley's own settings) and only then fanned out to the
 * room, as one frame built once, and acknowledged. It speaks the subset of Parley's frames the generator
 * reads (`hello`, `event` with `message.created`, `ack`), so the same generator drives both.
 */
export async function startBaselineServer(options: BaselineOptions): Promise<BaselineServer> {
  mkdirSync(dirname(options.dbPath), { recursive: true });
  const db = new Database(options.dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, room TEXT NOT NULL, seq INTEGER NOT NULL, ' +
      'sender TEXT NOT NULL, content TEXT NOT NULL, created_at INTEGER NOT NULL)',
  );
  const insert = db.prepare('INSERT INTO messages (room, seq, sender, content, created_at) VALUES (?, ?, ?, ?, ?)');
  const rooms = new Map<string, Set<WebSocket>>();
  const seqs = new Map<string, number>();
  let connections = 0;

  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const params = new URL(req.url ?? '/', 'http://baseline').searchParams;
    const room = params.get('room') ?? 'lobby';
    const sender = params.get('member') ?? `c${(connections += 1)}`;
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Set()));
    members.add(ws);
    ws.on('close', () => members.delete(ws));
    ws.on('message', (data) => {
      let frame: { type?: unknown; conversationId?: unknown; message?: { content?: unknown } };
      try {
        frame = JSON.parse(data.toString()) as typeof frame;
      } catch {
        return;
      }
      if (frame.type !== 'send') return;
      const target = typeof frame.conversationId === 'string' ? frame.conversationId : room;
      const content = String(frame.message?.content ?? '');
      const seq = (seqs.get(target) ?? 0) + 1;
      seqs.set(target, seq);
      const now = Date.now();
      const id = Number(insert.run(target, seq, sender, content, now).lastInsertRowid);
      const message = { id: `m${id}`, conversationId: target, seq, senderId: sender, content, createdAt: new Date(now).toISOString() };
      const event = `{"type":"event","event":${JSON.stringify({ type: 'message.created', conversationId: target, seq, data: { message } })}}`;
      for (const peer of rooms.get(target) ?? []) peer.send(event);
      ws.send(`{"type":"ack","result":${JSON.stringify(message)}}`);
    });
    ws.send(JSON.stringify({ type: 'hello', connectionId: sender, userId: sender, heartbeatSeconds: 0, awaitingResume: false }));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => resolve());
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `ws://${options.host}:${port}`,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      db.close();
    },
  };
}
