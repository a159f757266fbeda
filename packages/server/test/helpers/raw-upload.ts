import { request, type ClientRequest } from 'node:http';

export interface RawUploadResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  /** Body bytes the client managed to hand to the socket before the answer came. */
  sent: number;
}

/**
 * POSTs a body chunk by chunk with node:http, honouring backpressure, and stops writing as soon as the
 * server answers: what a client sees when a server refuses an upload early. Without `contentLength`
 * the body goes chunked.
 */
export function rawUpload(
  url: string,
  options: {
    token: string;
    contentLength?: number;
    /** Defaults to application/octet-stream; null sends none. */
    contentType?: string | null;
    body: AsyncIterable<Uint8Array>;
    /** Called with the request once headers are out, e.g. to break the connection mid-body. */
    onRequest?: (req: ClientRequest) => void;
  },
): Promise<RawUploadResult> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
    if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/octet-stream';
    if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
    const req = request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => {});
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (String(res.headers['content-type'] ?? '').includes('json') && text !== '') body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sent });
      });
    });
    // After the answer, a closed connection is expected: the server refused the rest of the body.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.flushHeaders();
    options.onRequest?.(req);
    void (async () => {
      for await (const chunk of options.body) {
        if (answered || req.destroyed) break;
        sent += chunk.byteLength;
        if (!req.write(chunk)) {
          await new Promise<void>((r) => {
            const done = () => {
              req.off('drain', done);
              req.off('close', done);
              r();
            };
            req.on('drain', done);
            req.on('close', done);
          });
        }
      }
      if (!answered && !req.destroyed) req.end();
    })().catch(reject);
  });
}
