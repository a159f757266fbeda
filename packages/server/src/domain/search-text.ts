// Search text: how Parley turns text into search tokens, a query into what to look for, and a match
// into a highlighted snippet. Both stores index and query the same token strings made here, so SQLite
// and PostgreSQL find, rank and highlight alike, and neither depends on a database text-search config.
//
// Folding: Unicode NFC, then per character NFKD with the Latin combining diacritics (U+0300–U+036F)
// dropped, lower case, and a few letters that have no decomposition (ß → ss, æ → ae, ø → o, …).
// Japanese voicing marks are not in that range, so が stays が.
// Tokens: runs of letters, digits and marks are words. Han, Hiragana, Katakana and Hangul have no
// spaces between words, so their runs become overlapping bigrams (東京都 → 東京 京都) plus the run's last
// character on its own (都), which lets one-character queries and phrases across scripts match.

/** Longest token kept, in characters: longer words are cut (queries are cut the same way). */
export const MAX_TOKEN_CHARS = 64;
/** Longest token string indexed for one text (far beyond any default message length). */
export const MAX_INDEXED_CHARS = 200_000;
/** Most terms or phrases a query may have. */
export const MAX_QUERY_UNITS = 16;
const MAX_UNIT_TOKENS = 32;

const EXTRA_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss', ẞ: 'ss', æ: 'ae', Æ: 'ae', œ: 'oe', Œ: 'oe', ø: 'o', Ø: 'o', ł: 'l', Ł: 'l', đ: 'd', Đ: 'd',
  ð: 'd', Ð: 'd', þ: 'th', Þ: 'th', ı: 'i', ς: 'σ',
};
const DIACRITICS = /[\u0300-\u036f]/g;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3005\u3006\u30fc]/u;
const WORD = /[\p{L}\p{N}]/u;
const MARK = /\p{M}/u;

const foldCache = new Map<string, string>();

/** The folded form of one code point: possibly empty (a lone diacritic) or several characters (ﬁ → fi). */
function foldChar(ch: string): string {
  if (ch.length === 1 && ch.charCodeAt(0) < 0x80) return ch.toLowerCase();
  let folded = foldCache.get(ch);
  if (folded === undefined) {
    folded = EXTRA_FOLDS[ch] ?? ch.normalize('NFKD').replace(DIACRITICS, '').toLowerCase().normalize('NFC');
    folded = [...folded].map((c) => EXTRA_FOLDS[c] ?? c).join('');
    foldCache.set(ch, folded);
  }
  return folded;
}

/** Folds text for comparison (what the tokens are made of). */
export function foldText(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) out += foldChar(ch);
  return out.normalize('NFC');
}

/** A token and, for each of its characters, where that character came from in the (NFC) text. */
export interface TextToken {
  text: string;
  starts: number[];
  ends: number[];
  /** The last character of a CJK run that also has bigrams (the bigrams already cover it). */
  tail: boolean;
}

interface Unit {
  text: string;
  start: number;
  end: number;
}

/** Splits text (already NFC) into tokens with their origins. */
export function tokenize(text: string): TextToken[] {
  const tokens: TextToken[] = [];
  let word: Unit[] = [];
  let run: Unit[] = [];
  const closeWord = () => {
    if (word.length === 0) return;
    const kept = word.slice(0, MAX_TOKEN_CHARS);
    tokens.push({ text: kept.map((u) => u.text).join(''), starts: kept.map((u) => u.start), ends: kept.map((u) => u.end), tail: false });
    word = [];
  };
  const closeRun = () => {
    for (let i = 0; i + 1 < run.length; i++) {
      const [a, b] = [run[i]!, run[i + 1]!];
      tokens.push({ text: a.text + b.text, starts: [a.start, b.start], ends: [a.end, b.end], tail: false });
    }
    const last = run.at(-1);
    if (last) tokens.push({ text: last.text, starts: [last.start], ends: [last.end], tail: run.length > 1 });
    run = [];
  };
  let offset = 0;
  for (const ch of text) {
    const start = offset;
    offset += ch.length;
    const folded = foldChar(ch);
    if (folded === '') {
      // A lone diacritic: it belongs to the character before it, for highlighting.
      const open = word.at(-1) ?? run.at(-1);
      if (open && open.end === start) open.end = offset;
      continue;
    }
    for (const c of folded) {
      if (CJK.test(c)) {
        closeWord();
        run.push({ text: c, start, end: offset });
      } else if (MARK.test(c) && (word.length > 0 || run.length > 0)) {
        const open = word.length > 0 ? word.at(-1)! : run.at(-1)!;
        // Composes with its base where it can (half-width ｶﾞ folds to カ + U+3099, which is ガ).
        open.text = (open.text + c).normalize('NFC');
        open.end = offset;
      } else if (WORD.test(c) || MARK.test(c)) {
        closeRun();
        word.push({ text: c, start, end: offset });
      } else {
        closeWord();
        closeRun();
      }
    }
  }
  closeWord();
  closeRun();
  return tokens;
}

/**
 * The stored form of a text's tokens: space-separated and space-padded (` a b c `), so that a whole
 * token is ` a ` and a token prefix is ` a`. Empty text gives ''.
 */
export function tokenString(text: string): string {
  const ascii = asciiTokenString(text);
  if (ascii !== undefined) return ascii;
  const tokens = tokenize(text.normalize('NFC'));
  if (tokens.length === 0) return '';
  let out = ' ';
  for (const t of tokens) {
    // PostgreSQL refuses a tsvector over 1 MB: a text is indexed up to this many characters of tokens.
    if (out.length + t.text.length + 1 > MAX_INDEXED_CHARS) break;
    out += `${t.text} `;
  }
  return out;
}

const isAsciiWordChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/**
 * tokenString of an ASCII text, which is most of what a chat indexes (undefined for any other): its words
 * are its runs of letters and digits, lower-cased, with nothing to fold, no marks and no CJK. The same
 * string as tokenize gives, without its per-character records (a test compares the two), in a tenth of
 * the time (0.7 against 7.8 µs for a message of a dozen words).
 */
function asciiTokenString(text: string): string | undefined {
  let out = ' ';
  let found = false;
  let start = -1;
  // One step past the end (as a 0, not a word character) closes the last word.
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0;
    if (c > 0x7f) return undefined;
    if (isAsciiWordChar(c)) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    const token = text.slice(start, Math.min(i, start + MAX_TOKEN_CHARS)).toLowerCase();
    start = -1;
    found = true;
    if (out.length + token.length + 1 > MAX_INDEXED_CHARS) break;
    out += `${token} `;
  }
  return found ? out : '';
}

/** A term or phrase of a query: consecutive tokens, the last one possibly a prefix. */
export interface QueryUnit {
  tokens: string[];
  /** The last token may be the start of a longer token (bare words: `deploy` finds `deployment`). */
  prefix: boolean;
}

/** A parsed query: what must match (all of it) and what must not. */
export interface ParsedQuery {
  include: QueryUnit[];
  exclude: QueryUnit[];
}

function unitOf(text: string, quoted: boolean): QueryUnit | undefined {
  let tokens = tokenize(text.normalize('NFC'));
  // A query's CJK run may continue in the document: its last character is covered by its last bigram.
  if (tokens.at(-1)?.tail) tokens = tokens.slice(0, -1);
  tokens = tokens.slice(0, MAX_UNIT_TOKENS);
  const last = tokens.at(-1);
  if (!last) return undefined;
  // A single CJK character may begin a bigram; a bigram is a whole token already.
  const cjkSingle = CJK.test(last.text) && [...last.text].length === 1;
  const cjkBigram = CJK.test(last.text) && !cjkSingle;
  return { tokens: tokens.map((t) => t.text), prefix: cjkSingle || (!quoted && !cjkBigram) };
}

/**
 * Parses search syntax: words (each matches words starting with it), "quoted phrases" (consecutive
 * whole words), and `-word` or `-"phrase"` to exclude. Everything included must match.
 */
export function parseQuery(q: string): ParsedQuery {
  const include: QueryUnit[] = [];
  const exclude: QueryUnit[] = [];
  const pattern = /(-?)(?:"([^"]*)"?|(\S+))/g;
  for (const m of q.matchAll(pattern)) {
    const negated = m[1] === '-';
    const quoted = m[2] !== undefined;
    const unit = unitOf(quoted ? m[2]! : m[3]!, quoted);
    if (!unit) continue;
    (negated ? exclude : include).push(unit);
  }
  return { include: include.slice(0, MAX_QUERY_UNITS), exclude: exclude.slice(0, MAX_QUERY_UNITS) };
}

/** The stored-form needles of a unit: its whole form, and its prefix form when it may be a prefix. */
export function unitNeedles(unit: QueryUnit): { whole: string; prefix: string | null } {
  const joined = ` ${unit.tokens.join(' ')}`;
  return { whole: `${joined} `, prefix: unit.prefix ? joined : null };
}

/** All included units as one phrase, when there are several: matching it as a whole earns a bonus. */
export function phraseOf(query: ParsedQuery): QueryUnit | undefined {
  if (query.include.length < 2) return undefined;
  return { tokens: query.include.flatMap((u) => u.tokens), prefix: query.include.at(-1)!.prefix };
}

const LABEL_SEPARATOR = '\u001f';
const normaliseLabel = (label: string): string => foldText(label).split(LABEL_SEPARATOR).join(' ').replace(/\s+/g, ' ').trim();

/** Room keywords as labels for exact (folded) matching: each between separators, `\u001fa\u001fb\u001f`. */
export function labelString(keywords: readonly string[]): string {
  const labels = keywords.map(normaliseLabel).filter((l) => l !== '');
  return labels.length === 0 ? '' : `${LABEL_SEPARATOR}${labels.join(LABEL_SEPARATOR)}${LABEL_SEPARATOR}`;
}

/** What a label string contains when it has `label`; undefined when the label folds to nothing. */
export function labelNeedle(label: string): string | undefined {
  const l = normaliseLabel(label);
  return l === '' ? undefined : `${LABEL_SEPARATOR}${l}${LABEL_SEPARATOR}`;
}

/** The text of a message that search sees: HTML without tags, plus the names of its files. */
export function searchableText(message: { type: string; content: string; attachments?: readonly { name: string }[] }): string {
  if (message.type === 'system') return '';
  const body = message.type === 'html' ? htmlToText(message.content) : message.content;
  const names = (message.attachments ?? []).map((a) => a.name);
  return names.length === 0 ? body : `${body}\n${names.join('\n')}`;
}

const BLOCK_TAG = /^<\/?(?:p|div|br|hr|li|ul|ol|tr|td|th|table|thead|tbody|h[1-6]|blockquote|pre)\b/i;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * Text of sanitised HTML (the only HTML Parley stores): block tags separate words, inline tags do not
 * (`<b>wo</b>rd` is one word), and entities are decoded.
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<[^>]*>/g, (tag) => (BLOCK_TAG.test(tag) ? ' ' : ''))
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    });
}

/** A highlighted range of a snippet, in UTF-16 code units: `text.slice(start, end)`. */
export interface Highlight {
  start: number;
  end: number;
}

export interface Snippet {
  text: string;
  highlights: Highlight[];
}

function matchSpans(tokens: readonly TextToken[], unit: QueryUnit): Highlight[] {
  const spans: Highlight[] = [];
  const n = unit.tokens.length;
  const lastQuery = unit.tokens[n - 1]!;
  for (let i = 0; i + n <= tokens.length; i++) {
    let ok = true;
    for (let j = 0; j < n - 1 && ok; j++) ok = tokens[i + j]!.text === unit.tokens[j];
    const last = tokens[i + n - 1]!;
    if (!ok || !(last.text === lastQuery || (unit.prefix && last.text.startsWith(lastQuery)))) continue;
    const chars = last.text === lastQuery ? last.ends.length : [...lastQuery].length;
    spans.push({ start: tokens[i]!.starts[0]!, end: last.ends[chars - 1]! });
  }
  return spans;
}

/** Moves an offset off the second half of a surrogate pair. */
const safe = (text: string, i: number): number => (i > 0 && i < text.length && /[\udc00-\udfff]/.test(text[i]!) ? i - 1 : i);

/**
 * An excerpt of `text` around the first match of `query`, at most about `maxLength` characters, with
 * every match in it highlighted. Cut at spaces where possible; `…` marks a cut.
 */
export function snippetOf(text: string, query: ParsedQuery, maxLength = 200): Snippet {
  const base = text.normalize('NFC').replace(/[\r\n\t]/g, ' ');
  const tokens = tokenize(base);
  const found = query.include.flatMap((u) => matchSpans(tokens, u)).sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Highlight[] = [];
  for (const h of found) {
    const prev = merged.at(-1);
    if (prev && h.start <= prev.end) prev.end = Math.max(prev.end, h.end);
    else merged.push({ ...h });
  }
  if (base.length <= maxLength) return { text: base, highlights: merged };
  const first = merged[0]?.start ?? 0;
  let start = Math.max(0, first - Math.floor(maxLength / 4));
  if (start > 0) {
    const space = base.lastIndexOf(' ', start);
    start = space >= 0 && start - space < 20 ? space + 1 : start;
  }
  start = safe(base, start);
  let end = Math.min(base.length, start + maxLength);
  if (end < base.length) {
    const space = base.lastIndexOf(' ', end);
    end = space > start + maxLength / 2 ? space : end;
  }
  end = safe(base, end);
  const lead = start > 0 ? '…' : '';
  const shift = lead.length - start;
  const highlights = merged
    .filter((h) => h.end > start && h.start < end)
    .map((h) => ({ start: Math.max(h.start, start) + shift, end: Math.min(h.end, end) + shift }));
  return { text: `${lead}${base.slice(start, end)}${end < base.length ? '…' : ''}`, highlights };
}
