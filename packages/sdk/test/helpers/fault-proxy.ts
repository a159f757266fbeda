import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Which requests a fault applies to. */
export type RequestMatch = (req: { method: string; path: string }) => boolean;

type Fault =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string; match: RequestMatch }
  | { kind: 'drop'; match: RequestMatch }
  | { kind: 'drop-after-forward'; match: RequestMatch };

/**
 * A real HTTP + WebSocket reverse proxy in front of a real server, which can be told to fail: answer
 * the next requests itself (503, 429 with Retry-After…), drop connections before or after forwarding
 * them, or cut every WebSocket. It also serves static pages (the browser test's page and bundle) from
 * the server's own origin.
 */
export class FaultProxy implements AsyncDisposable {
  readonly #target: URL;
  readonly #server = createServer((req, res) => void this.#onRequest(req, res));
  readonly #faults: Fault[] = [];
  readonly #tunnels = new Set<Socket | Duplex>();
  readonly #frozen = new Set<Socket | Duplex>();
  readonly #static = new Map<string, { type: string; body: string }>();
  /** Every request seen, in order. */
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers'] }[] = [];
  #refuseUpgrades = 0;
  url = '';

  private constructor(target: string) {
    this.#target = new URL(target);
    this.#server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
  }

  /** Starts a proxy to `target` on an ephemeral port. */
  static async start(target: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    const address = proxy.#server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    proxy.url = `http://127.0.0.1:${address.port}`;
    return proxy;
  }

  /** The next `count` matching requests get this answer from the proxy instead of the server. */
  failNext(count: number, answer: { status: number; headers?: Record<string, string>; body?: string; match?: RequestMatch }): void {
    for (let i = 0; i < count; i += 1) {
      this.#faults.push({ kind: 'answer', status: answer.status, headers: answer.headers ?? {}, body: answer.body ?? '', match: answer.match ?? (() => true) });
    }
  }

  /** The next `count` matching requests have their connection dropped without reaching the server. */
  dropNext(count: number, match: RequestMatch = () => true): void {
    for (let i = 0; i < count; i += 1) this.#faults.push({ kind: 'drop', match });
  }

  /** The next `count` matching requests reach the server, then the answer is lost (connection dropped). */
  dropAfterForward(count: number, match: RequestMatch = () => true): void {
    for (let i = 0; i < count; i += 1) this.#faults.push({ kind: 'drop-after-forward', match });
  }

  /** Forgets faults not used up yet. */
  clearFaults(): void {
    this.#faults.length = 0;
    this.#refuseUpgrades = 0;
  }

  /** The next `count` WebSocket upgrades are refused with 503. */
  refuseUpgrades(count: number): void {
    this.#refuseUpgrades += count;
  }

  /** Cuts every WebSocket passing through, as a network failure would; returns how many. */
  killWebSockets(): number {
    const n = this.#tunnels.size / 2;
    for (const socket of this.#tunnels) socket.destroy();
    this.#tunnels.clear();
    return n;
  }

  /**
   * Makes every WebSocket passing through go silent without closing, as a dead network path does: no
   * byte passes either way any more, and neither side learns that the other closed. Returns how many.
   */
  freezeWebSockets(): number {
    const n = this.#tunnels.size / 2;
    for (const socket of this.#tunnels) {
      socket.unpipe();
      socket.pause();
      this.#frozen.add(socket);
    }
    this.#tunnels.clear();
    return n;
  }

  /** WebSockets currently passing through. */
  get webSocketCount(): number {
    return this.#tunnels.size / 2;
  }

  /** Serves `body` at `path` (same origin as the API). */
  serve(path: string, type: string, body: string): void {
    this.#static.set(path, { type, body });
  }

  async close(): Promise<void> {
    this.killWebSockets();
    for (const socket of this.#frozen) socket.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #takeFault(method: string, path: string): Fault | undefined {
    const i = this.#faults.findIndex((f) => f.match({ method, path }));
    return i === -1 ? undefined : this.#faults.splice(i, 1)[0];
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method, path, headers: req.headers });
    const page = this.#static.get(path);
    if (page) {
      res.writeHead(200, { 'content-type': page.type });
      res.end(page.body);
      return;
    }
    const fault = this.#takeFault(method, path);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'answer') {
      res.writeHead(fault.status, fault.headers);
      res.end(fault.body);
      return;
    }
    const upstream = httpRequest(
      { host: this.#target.hostname, port: this.#target.port, method, path: req.url, headers: req.headers },
      (answer) => {
        if (fault?.kind === 'drop-after-forward') {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#refuseUpgrades > 0) {
      this.#refuseUpgrades -= 1;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const upstream = connect(Number(this.#target.port), this.#target.hostname, () => {
      let head0 = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) head0 += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      upstream.write(`${head0}\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    this.#tunnels.add(socket);
    this.#tunnels.add(upstream);
    const end = () => {
      // A frozen tunnel tells neither side about the other's end.
      if (this.#frozen.has(socket)) return;
      this.#tunnels.delete(socket);
      this.#tunnels.delete(upstream);
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
    socket.on('close', end);
    upstream.on('close', end);
  }
}
