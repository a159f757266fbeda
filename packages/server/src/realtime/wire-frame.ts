/**
 * A whole WebSocket text frame as it goes on the wire (RFC 6455 §5.2): a server's frames are not masked,
 * so one frame's bytes are the same for every recipient. An event fanned out to many connections is
 * framed once and the same buffer written to each socket, instead of each `ws.send` framing it again and
 * writing header and payload as two chunks. This holds only while the server does not compress frames
 * (the gateway turns permessage-deflate off): a compressed frame differs per connection.
 */
export class WireFrame {
  readonly bytes: Buffer;
  /** The frame's payload (a view into `bytes`), for a socket `ws` must frame itself. */
  readonly payload: Buffer;

  /** Frames `text`, written straight into the frame's buffer (no intermediate copy of the payload). */
  constructor(text: string) {
    const n = Buffer.byteLength(text);
    const header = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
    const bytes = Buffer.allocUnsafe(header + n);
    bytes[0] = 0x81; // FIN, opcode 1 (text)
    if (n < 126) {
      bytes[1] = n;
    } else if (n < 0x10000) {
      bytes[1] = 126;
      bytes.writeUInt16BE(n, 2);
    } else {
      bytes[1] = 127;
      bytes.writeBigUInt64BE(BigInt(n), 2);
    }
    bytes.write(text, header);
    this.bytes = bytes;
    this.payload = bytes.subarray(header);
  }

  /** Bytes on the wire (what the frame adds to a connection's outgoing buffer). */
  get length(): number {
    return this.bytes.length;
  }
}
