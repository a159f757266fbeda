import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ClientFrameSchema, ParleyError, type ClientFrame } from '@parley/protocol';

const check = TypeCompiler.Compile(ClientFrameSchema);
const TYPES = new Set(['resume', 'ping', 'typing', 'read', 'send', 'signal']);

/** Parses and validates one client frame, or throws `bad_request` naming what is wrong. */
export function parseClientFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ParleyError('bad_request', 'A frame must be a JSON object', 'frame');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ParleyError('bad_request', 'A frame must be a JSON object', 'frame');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !TYPES.has(type)) {
    throw new ParleyError('bad_request', `Unknown frame type; expected one of ${[...TYPES].join(', ')}`, 'type');
  }
  if (!check.Check(value)) {
    // The union reports every branch; the error about this frame's own type is the one that helps.
    const errors = [...check.Errors(value)];
    const best = errors.find((e) => e.path !== '' && e.path !== '/type') ?? errors[0];
    const path = best?.path.replace(/^\//, '').replace(/\//g, '.') || 'frame';
    throw new ParleyError('bad_request', `Invalid frame "${type}": ${path} ${best?.message ?? 'is invalid'}`, path);
  }
  return value;
}

/** The ref of a frame, if it has a usable one, even when the frame is otherwise invalid. */
export function frameRef(text: string): string | undefined {
  try {
    const ref = (JSON.parse(text) as { ref?: unknown }).ref;
    return typeof ref === 'string' && ref.length <= 100 ? ref : undefined;
  } catch {
    return undefined;
  }
}
