import WebSocket from 'ws';

export interface Frame {
  type: string;
  [key: string]: any;
}

/** A real WebSocket client for tests: collects frames and lets a test wait for the ones it expects. */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects with the credential in the Authorization header (or as a subprotocol), resolving after `hello`. */
  static async connect(
    baseUrl: string,
    credential: string | undefined,
    options: { resume?: boolean; viaSubprotocol?: boolean; path?: string; ca?: string } = {},
  ): Promise<WsClient> {
    const url = `${baseUrl.replace(/^http/, 'ws')}${options.path ?? '/v1/realtime'}${options.resume ? '?resume=1' : ''}`;
    const protocols = ['parley.v1', ...(options.viaSubprotocol && credential ? [`parley.bearer.${credential}`] : [])];
    const headers: Record<string, string> = {};
    if (credential && !options.viaSubprotocol) headers['authorization'] = `Bearer ${credential}`;
    const ws = new WebSocket(url, protocols, { headers, ...(options.ca !== undefined ? { ca: options.ca } : {}) });
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
    await client.next((f) => f.type === 'hello');
    return client;
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or coming) that matches. */
  next(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  /** Sends a frame with a fresh ref and waits for its ack or error. */
  async call(frame: object): Promise<Frame> {
    const ref = Math.random().toString(36).slice(2);
    this.send({ ...frame, ref });
    return this.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref);
  }

  /** Event frames received so far, optionally of one conversation. */
  events(conversationId?: string): any[] {
    return this.frames.filter((f) => f.type === 'event' && (!conversationId || f.event.conversationId === conversationId)).map((f) => f.event);
  }

  close(): void {
    this.ws.close();
  }
}
