import { describe, expect, it } from 'vitest';
import { foldText, htmlToText, parseQuery, phraseOf, searchableText, snippetOf, tokenize, tokenString, unitNeedles } from './search-text.js';

/** What a snippet highlights, as the highlighted strings. */
const marked = (s: { text: string; highlights: { start: number; end: number }[] }) => s.highlights.map((h) => s.text.slice(h.start, h.end));

/** Does the stored token string match the query the way the stores decide it? */
function matches(text: string, q: string): boolean {
  const tokens = tokenString(text);
  const query = parseQuery(q);
  const has = (u: (typeof query.include)[number]) => {
    const n = unitNeedles(u);
    return tokens.includes(n.whole) || (n.prefix !== null && tokens.includes(n.prefix));
  };
  return query.include.length > 0 && query.include.every(has) && !query.exclude.some((u) => tokens.includes(unitNeedles(u).whole));
}

describe('foldText', () => {
  it('drops Latin diacritics and case, and folds letters without a decomposition', () => {
    expect(foldText('ÉCOLE Ångström İstanbul Øre Straße Æsir ﬁne')).toBe('ecole angstrom istanbul ore strasse aesir fine');
  });

  it('keeps Japanese voicing marks and folds half-width katakana and full-width Latin', () => {
    expect(foldText('がぱ')).toBe('がぱ');
    expect(foldText('ｶﾞ')).toBe('ガ');
    expect(foldText('ＡＢＣ１')).toBe('abc1');
  });

  it('treats decomposed and precomposed input alike', () => {
    expect(tokenString('Cafe\u0301')).toBe(tokenString('Café'));
    expect(tokenString('\u304b\u3099')).toBe(tokenString('が'));
  });
});

describe('tokenString', () => {
  it('splits words on anything that is not a letter, digit or mark', () => {
    expect(tokenString("Don't panic: v2.0-beta!")).toBe(' don t panic v2 0 beta ');
    expect(tokenString('')).toBe('');
    expect(tokenString('  ... ')).toBe('');
  });

  it('makes CJK runs into bigrams plus their last character', () => {
    expect(tokenString('東京都')).toBe(' 東京 京都 都 ');
    expect(tokenString('猫')).toBe(' 猫 ');
    expect(tokenString('東京2024年')).toBe(' 東京 京 2024 年 ');
    expect(tokenString('회의실')).toBe(' 회의 의실 실 ');
  });

  it('keeps marks of scripts that need them inside words', () => {
    expect(tokenString('हिन्दी')).toBe(' हिन्दी ');
  });

  it('cuts very long words', () => {
    expect(tokenString('a'.repeat(200))).toBe(` ${'a'.repeat(64)} `);
  });

  it('gives an ASCII text (its own fast path) the tokens tokenize gives it', () => {
    // From tokenize, as a text in any script is indexed.
    const viaTokenize = (text: string): string => {
      const tokens = tokenize(text);
      return tokens.length === 0 ? '' : ` ${tokens.map((t) => t.text).join(' ')} `;
    };
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const samples = ['', ' ', 'Hello, World!', 'snake_case and kebab-case', '\t\ntabs\r\n', 'X'.repeat(70) + ' y', 'MiXeD 42abc DEF9'];
    for (let i = 0; i < 2_000; i++) {
      samples.push(Array.from({ length: random(40) }, () => String.fromCharCode(random(128))).join(''));
    }
    for (const text of samples) expect(tokenString(text), JSON.stringify(text)).toBe(viaTokenize(text));
  });

  it('bounds the indexed string of a long ASCII text as of any other', () => {
    const long = 'word '.repeat(60_000);
    const indexed = tokenString(long);
    expect(indexed.length).toBeLessThanOrEqual(200_000);
    expect(indexed.length).toBeGreaterThan(199_990);
    expect(indexed.startsWith(' word word ')).toBe(true);
    expect(tokenString(`${long}é`).length).toBe(indexed.length);
  });
});

describe('parseQuery', () => {
  it('reads words as prefixes, quoted phrases as whole words and -exclusions', () => {
    expect(parseQuery('Deploy "Release Notes" -draft -"old plan"')).toEqual({
      include: [
        { tokens: ['deploy'], prefix: true },
        { tokens: ['release', 'notes'], prefix: false },
      ],
      exclude: [
        { tokens: ['draft'], prefix: true },
        { tokens: ['old', 'plan'], prefix: false },
      ],
    });
  });

  it('makes a word with punctuation a phrase', () => {
    expect(parseQuery('café-bar').include).toEqual([{ tokens: ['cafe', 'bar'], prefix: true }]);
  });

  it('drops the trailing character of a CJK run and lets one CJK character be a prefix', () => {
    expect(parseQuery('東京都').include).toEqual([{ tokens: ['東京', '京都'], prefix: false }]);
    expect(parseQuery('京').include).toEqual([{ tokens: ['京'], prefix: true }]);
  });

  it('ignores what has no searchable characters, and an unclosed quote runs to the end', () => {
    expect(parseQuery('!!! -- ""')).toEqual({ include: [], exclude: [] });
    expect(parseQuery('"open quote').include).toEqual([{ tokens: ['open', 'quote'], prefix: false }]);
  });

  it('bounds the number of terms', () => {
    expect(parseQuery(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')).include).toHaveLength(16);
  });

  it('offers the included units as one phrase when there are several', () => {
    expect(phraseOf(parseQuery('release notes'))).toEqual({ tokens: ['release', 'notes'], prefix: true });
    expect(phraseOf(parseQuery('release'))).toBeUndefined();
  });
});

describe('matching on token strings', () => {
  it.each([
    ['Deployment finished', 'deploy', true],
    ['We redeploy today', 'deploy', false],
    ['Café crème', 'cafe creme', true],
    ['CAFE', 'café', true],
    ['release notes for v2', '"release notes"', true],
    ['notes on the release', '"release notes"', false],
    ['the release plan is a draft', 'release -draft', false],
    ['the release plan, drafted', 'release -draft', true],
    ['明日は東京都で会議があります', '東京', true],
    ['明日は東京都で会議があります', '東京都', true],
    ['明日は東京都で会議があります', '京都', true],
    ['明日は東京都で会議があります', '会議', true],
    ['明日は東京都で会議があります', '議', true],
    ['明日は東京都で会議があります', 'す', true],
    ['明日は東京都で会議があります', '大阪', false],
    ['明日は東京都で会議があります', '都会', false],
    ['我们下午开会讨论预算', '预算', true],
    ['我们下午开会讨论预算', '讨论预算', true],
    ['我们下午开会讨论预算', '论预算会', false],
    ['東京2024の計画', '京2024', true],
    ['東京2024の計画', '東京2024', true],
    ['Ångström units', 'angstrom', true],
  ])('%s ∋ %s: %s', (text, q, expected) => {
    expect(matches(text, q)).toBe(expected);
  });
});

describe('searchableText', () => {
  it('strips HTML without joining block-separated words, decodes entities, adds file names, skips system messages', () => {
    expect(htmlToText('<p>a<b>b</b>c</p><p>d &amp; e &#x41;&#66;</p>')).toBe(' abc  d & e AB ');
    expect(searchableText({ type: 'text', content: 'hi', attachments: [{ name: 'plan.pdf' }] })).toBe('hi\nplan.pdf');
    expect(searchableText({ type: 'system', content: 'Alice joined' })).toBe('');
  });
});

describe('snippetOf', () => {
  it('highlights every match in a short text, prefixes by their matched part', () => {
    const s = snippetOf('We deployed the Café build; deploy again', parseQuery('deploy cafe'));
    expect(s.text).toBe('We deployed the Café build; deploy again');
    expect(marked(s)).toEqual(['deploy', 'Café', 'deploy']);
  });

  it('highlights CJK phrases and single characters precisely', () => {
    expect(marked(snippetOf('明日は東京都で会議', parseQuery('東京都')))).toEqual(['東京都']);
    expect(marked(snippetOf('明日は東京都で会議', parseQuery('京')))).toEqual(['京']);
    expect(marked(snippetOf('明日は東京都で会議', parseQuery('会議 明日')))).toEqual(['明日', '会議']);
  });

  it('highlights decomposed accents with their letter', () => {
    expect(marked(snippetOf('Cafe\u0301 time', parseQuery('cafe')))).toEqual(['Café']);
  });

  it('cuts long text around the first match, marks the cuts, and keeps highlights on the match', () => {
    const text = `${'lorem ipsum '.repeat(40)}the needle is here ${'dolor sit '.repeat(40)}`;
    const s = snippetOf(text, parseQuery('needle'), 100);
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.text.length).toBeLessThanOrEqual(102);
    expect(marked(s)).toEqual(['needle']);
  });

  it('never cuts a surrogate pair in half', () => {
    const text = `${'😀'.repeat(150)} word`;
    const s = snippetOf(text, parseQuery('word'), 60);
    expect(s.text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(s.text).not.toMatch(/(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(marked(s)).toEqual(['word']);
  });
});
