/** The part of the WHATWG WebSocket the SDK uses; browsers, Node >= 22 and the `ws` package all have it. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

let loaded: Promise<WebSocketConstructor> | undefined;

/**
 * The global WebSocket, or on Node 20 (which has none) the optional `ws` package. The specifier is a
 * variable so that bundlers leave `ws` out of browser builds.
 */
export function loadWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof global === 'function') return Promise.resolve(global as WebSocketConstructor);
  loaded ??= (async () => {
    const specifier = 'ws';
    try {
      const mod = (await import(specifier)) as { WebSocket?: unknown; default?: unknown };
      const ctor = mod.WebSocket ?? mod.default;
      if (typeof ctor !== 'function') throw new Error('the ws package exports no WebSocket');
      return ctor as WebSocketConstructor;
    } catch (err) {
      loaded = undefined;
      throw new Error('Realtime needs a WebSocket: this runtime has none and the optional "ws" package is not installed', { cause: err });
    }
  })();
  return loaded;
}
