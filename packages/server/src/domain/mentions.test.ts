import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mentionedHandles } from './mentions.js';

describe('mentionedHandles', () => {
  it('finds handles after @, once each, lower-cased, in order', () => {
    expect(mentionedHandles('text', '@Bob hi @alice and @bob again, @carol.')).toEqual(['bob', 'alice', 'carol']);
    expect(mentionedHandles('text', '(@x_y-z) @a.b: hello')).toEqual(['x_y-z', 'a.b']);
  });

  it('ignores e-mail addresses, lone @ and mid-word @', () => {
    expect(mentionedHandles('text', 'mail bob@example.com or me@x @ nothing a@b')).toEqual([]);
  });

  it('reads HTML as text and names nobody in shares and system messages', () => {
    expect(mentionedHandles('html', '<p>Hi <b>@dana</b></p><a href="mailto:x@y.z">x</a>')).toEqual(['dana']);
    expect(mentionedHandles('share', '@dana')).toEqual([]);
    expect(mentionedHandles('system', '@dana')).toEqual([]);
  });

  it('stops at 50 and never returns malformed handles', () => {
    const many = Array.from({ length: 80 }, (_, i) => `@u${i}`).join(' ');
    expect(mentionedHandles('text', many)).toHaveLength(50);
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const h of mentionedHandles('text', text)) expect(h).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
      }),
    );
  });
});
