import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { WireFrame } from './wire-frame.js';

// `ws` exports its frame encoder, though its type definitions leave it out.
interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

// `ws` frames what it sends itself; a WireFrame must be byte for byte what `ws` would have written.
describe('WireFrame', () => {
  it.each([0, 1, 125, 126, 127, 65_535, 65_536, 200_000])('frames a %i-byte text payload as ws does', (n) => {
    // Multi-byte characters: the length in the header is in bytes, not characters.
    const text = 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2);
    const payload = Buffer.from(text);
    const expected = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }));
    const frame = new WireFrame(text);
    expect(frame.bytes.equals(expected)).toBe(true);
    expect(frame.length).toBe(expected.length);
    expect(frame.payload.equals(payload)).toBe(true);
  });
});
