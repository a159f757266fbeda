import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeMessageHtml } from '../src/services/html-sanitizer.js';

const REL = 'rel="noopener noreferrer nofollow"';

/** The start tags of sanitised output, each as its name and its attributes (values entity-decoded). */
function tagsOf(html: string): { name: string; attrs: Map<string, string> }[] {
  const tags: { name: string; attrs: Map<string, string> }[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s=/>]+(?:="[^"]*")?)*)\s*\/?>/g)) {
    const attrs = new Map<string, string>();
    for (const a of m[2]!.matchAll(/\s+([^\s=/>]+)(?:="([^"]*)")?/g)) attrs.set(a[1]!.toLowerCase(), decodeEntities(a[2] ?? ''));
    tags.push({ name: m[1]!.toLowerCase(), attrs });
  }
  return tags;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);?/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&#(\d+);?/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The scheme a browser resolves the URL to: the WHATWG parser, against a page of the chat's own origin. */
const schemeOf = (url: string): string => {
  try {
    return new URL(url, 'https://chat.example/c/1').protocol.slice(0, -1);
  } catch {
    return 'invalid';
  }
};

/** The safety invariants every output must meet. */
function expectSafe(out: string): void {
  expect(out.toLowerCase()).not.toContain('<script');
  // Every "<" left in the output starts a tag the parser above understands: no half-open tags to exploit.
  expect(out.split('<').length - 1).toBe(tagsOf(out).length + (out.match(/<\/[a-z][\w-]*>/gi) ?? []).length);
  for (const tag of tagsOf(out)) {
    for (const [name, value] of tag.attrs) {
      expect(name).not.toMatch(/^on/);
      expect(name).not.toBe('style');
      if (name === 'href' || name === 'src') {
        // "javascript:" may survive *inside* a relative URL (`<script>javascript:` is a path, not a scheme),
        // so the check is on what a browser would run: the resolved scheme, and the stripped start.
        // eslint-disable-next-line no-control-regex
        expect(value.replace(/[\u0000-\u0020\u007f]/g, '').toLowerCase()).not.toMatch(/^(javascript|data|vbscript):/);
        expect(['http', 'https', 'mailto']).toContain(schemeOf(value));
      }
    }
  }
  // And the plain-text form of the check asked for: no on…= attribute anywhere inside a tag.
  for (const tag of out.match(/<[^>]*>/g) ?? []) expect(tag.replace(/"[^"]*"/g, '""')).not.toMatch(/\son\w+=/i);
}

describe('sanitizeMessageHtml removes', () => {
  it.each([
    ['<script> with its content', '<p>hi<script>alert(1)</script></p>', '<p>hi</p>'],
    ['an uppercase <SCRIPT>', 'a<SCRIPT>alert(1)</SCRIPT>b', 'ab'],
    ['<script> inside <svg>', '<svg><script>alert(1)</script><circle r="1"/></svg>ok', 'ok'],
    ['<iframe>', '<iframe src="https://evil.example"></iframe>x', 'x'],
    ['<object>', '<object data="https://evil.example/x.swf"></object>x', 'x'],
    ['<embed>', '<embed src="https://evil.example/x.swf">x', 'x'],
    ['<style> with its content', '<style>body{display:none}</style>x', 'x'],
    ['<form> and its inputs', '<form action="https://evil.example"><input name="p"><button>go</button></form>x', 'gox'],
    ['<svg>', '<svg onload="alert(1)"><rect/></svg>x', 'x'],
    ['<textarea> with its content', '<textarea><img src=x onerror=alert(1)></textarea>x', 'x'],
    ['<meta> and <link>', '<meta http-equiv="refresh" content="0;url=https://evil.example"><link rel="stylesheet" href="x">x', 'x'],
    ['<base>', '<base href="https://evil.example/">x', 'x'],
  ])('%s', (_what, input, expected) => {
    const out = sanitizeMessageHtml(input);
    expect(out).toBe(expected);
    expectSafe(out);
  });

  it.each([
    ['onerror on img', '<img src="https://e.example/a.png" onerror="alert(1)">', '<img src="https://e.example/a.png" />'],
    ['onclick on a link', '<a href="https://e.example" onclick="alert(1)">x</a>', `<a href="https://e.example" ${REL} target="_blank">x</a>`],
    ['onmouseover on b', '<b onmouseover="alert(1)">x</b>', '<b>x</b>'],
    ['an unquoted handler', '<p onclick=alert(1)>x</p>', '<p>x</p>'],
    ['an uppercase handler', '<p ONCLICK="alert(1)">x</p>', '<p>x</p>'],
  ])('event handlers: %s', (_what, input, expected) => {
    const out = sanitizeMessageHtml(input);
    expect(out).toBe(expected);
    expectSafe(out);
  });

  it.each([
    ['on b', '<b style="color:red">x</b>', '<b>x</b>'],
    ['on a link', '<a href="https://e.example" style="position:fixed">x</a>', `<a href="https://e.example" ${REL} target="_blank">x</a>`],
    ['on img', '<img src="https://e.example/a.png" style="width:9999px">', '<img src="https://e.example/a.png" />'],
  ])('style attributes %s', (_what, input, expected) => {
    expect(sanitizeMessageHtml(input)).toBe(expected);
  });

  it.each([
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    '  javascript:alert(1)',
    '\u0001javascript:alert(1)',
    '&#106;avascript:alert(1)',
    '&#x6A;avascript:alert(1)',
    '&#0000106;avascript:alert(1)',
    'javascript&colon;alert(1)',
    'java&#x09;script:alert(1)',
    'java&Tab;script:alert(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'DATA:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'VBScript:msgbox(1)',
    '//evil.example/protocol-relative',
  ])('the href %j', (href) => {
    const out = sanitizeMessageHtml(`<a href="${href}">x</a>`);
    expect(out).toBe(`<a ${REL} target="_blank">x</a>`);
    expectSafe(out);
  });

  it.each(['javascript:alert(1)', 'data:image/svg+xml;base64,PHN2Zz4=', 'vbscript:x', 'mailto:a@b.example', '&#106;avascript:alert(1)'])(
    'the img src %j',
    (src) => {
      // An image whose source is refused goes altogether.
      const out = sanitizeMessageHtml(`<img src="${src}" alt="a">`);
      expect(out).toBe('');
      expectSafe(out);
    },
  );
});

describe('sanitizeMessageHtml keeps', () => {
  it.each([
    ['<b>', '<b>bold</b>'],
    ['<i>', '<i>italic</i>'],
    ['<em>', '<em>emphasis</em>'],
    ['<strong>', '<strong>strong</strong>'],
    ['<code>', '<code>x = 1 &lt; 2</code>'],
    ['<pre>', '<pre>line 1\nline 2</pre>'],
    ['<ul>/<li>', '<ul><li>one</li><li>two</li></ul>'],
    ['<ol>/<li>', '<ol><li>one</li></ol>'],
    ['<blockquote>', '<blockquote>quoted</blockquote>'],
    ['<p> and <br />', '<p>a<br />b</p>'],
    ['nested formatting', '<p><b><i>both</i></b> and <code>code</code></p>'],
    ['an https image', '<img src="https://e.example/a.png" alt="A" />'],
    ['table cells with spans', '<table><tbody><tr><td colspan="2">x</td></tr></tbody></table>'],
  ])('%s', (_what, html) => {
    expect(sanitizeMessageHtml(html)).toBe(html);
  });

  it.each(['https://e.example/a?b=1&amp;c=2', 'http://e.example', 'mailto:someone@e.example'])('links to %s, with rel and target', (href) => {
    expect(sanitizeMessageHtml(`<a href="${href}" title="t">x</a>`)).toBe(`<a href="${href}" title="t" ${REL} target="_blank">x</a>`);
  });

  it('overrides a rel or target the sender supplied', () => {
    expect(sanitizeMessageHtml('<a href="https://e.example" rel="opener" target="_self">x</a>')).toBe(
      `<a href="https://e.example" ${REL} target="_blank">x</a>`,
    );
  });

  it('adds rel to a link that lost its href', () => {
    expect(sanitizeMessageHtml('<a>x</a>')).toBe(`<a ${REL} target="_blank">x</a>`);
  });

  it('drops relative link targets (they would point readers at the Parley server itself)', () => {
    const out = sanitizeMessageHtml('<a href="x/javascript:alert(1)">x</a><a href="/v1/me">me</a>');
    expect(out).toBe(`<a ${REL} target="_blank">x</a><a ${REL} target="_blank">me</a>`);
    expectSafe(out);
  });

  it('drops images that are not absolute https, with their tag', () => {
    expect(sanitizeMessageHtml('<p>a<img src="http://e.example/a.png" />b<img src="/v1/me" /></p>')).toBe('<p>ab</p>');
  });

  it('escapes text, and keeps plain text as it is', () => {
    expect(sanitizeMessageHtml('plain text')).toBe('plain text');
    expect(sanitizeMessageHtml('1 < 2 & 3 > 2')).toBe('1 &lt; 2 &amp; 3 &gt; 2');
  });
});

describe('sanitizeMessageHtml properties', () => {
  const FRAGMENTS = ['<script>', '</script>', 'onerror=', 'javascript:', '<img src=x ', '"', "'", '>', '<', '<a href="', ' ', 'alert(1)', '&#106;', '\t', '/'];

  it('is safe for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => expectSafe(sanitizeMessageHtml(s))),
      { numRuns: 2000 },
    );
  });

  it('is safe for strings built from dangerous fragments', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }), (parts) => expectSafe(sanitizeMessageHtml(parts.join('')))),
      { numRuns: 3000 },
    );
  });

  it('is safe for mixes of fragments and arbitrary text', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 5 })), { maxLength: 30 }), (parts) =>
        expectSafe(sanitizeMessageHtml(parts.join(''))),
      ),
      { numRuns: 2000 },
    );
  });

  it('is idempotent on its own output', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS, '<b>', '</b>', 'https://e.example'), { maxLength: 30 }), (parts) => {
        const once = sanitizeMessageHtml(parts.join(''));
        expect(sanitizeMessageHtml(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });
});
