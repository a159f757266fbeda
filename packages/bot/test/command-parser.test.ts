import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCommand } from '../src/command-parser.js';

describe('parseCommand', () => {
  it('reads the name, the addressee, arguments with quotes and escapes, and flags', () => {
    expect(parseCommand('/Weather@wxBot Paris "New York" it\\\'s --days=3 --metric \'a b\' -- --x')).toEqual({
      name: '/weather',
      addressedTo: 'wxBot',
      args: ['Paris', 'New York', "it's", 'a b', '--'],
      flags: { days: '3', metric: true, x: true },
      text: 'Paris "New York" it\\\'s --days=3 --metric \'a b\' -- --x',
    });
    expect(parseCommand('  /help  ')).toEqual({ name: '/help', addressedTo: undefined, args: [], flags: {}, text: '' });
    expect(parseCommand('/echo "--not-a-flag"')?.args).toEqual(['--not-a-flag']);
    expect(parseCommand('/echo ""')?.args).toEqual(['']);
    expect(parseCommand('/echo "unclosed quote')?.args).toEqual(['unclosed quote']);
  });

  it('is not fooled by text that is no command', () => {
    for (const text of ['hello', '', '/', '/ help', 'say /help', '//x', '/help/me', `/${'x'.repeat(40)}`, '/hé']) {
      expect(parseCommand(text), text).toBeUndefined();
    }
  });

  it('never throws, and names are always lower-case slash commands', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (text) => {
        const parsed = parseCommand(text);
        if (parsed) expect(parsed.name).toMatch(/^\/[a-z0-9][a-z0-9_-]{0,31}$/);
      }),
    );
  });
});
