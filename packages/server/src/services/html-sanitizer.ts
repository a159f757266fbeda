import sanitizeHtml from 'sanitize-html';

// An allowlist, not a blocklist: anything not named here is dropped. No scripts, no event handlers,
// no styles. Links must be absolute http(s) or mailto, images absolute https: a relative URL would make
// every reader's browser request a path on the Parley server itself, and plain-http images leak readers.
const LINK = /^(https?:\/\/|mailto:)/i;
const IMAGE = /^https:\/\//i;

function keepUrl(attribs: Record<string, string>, name: string, allowed: RegExp): Record<string, string> {
  const value = attribs[name];
  if (value === undefined || allowed.test(value.trim())) return attribs;
  const { [name]: _dropped, ...rest } = attribs;
  return rest;
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'a', 'b', 'blockquote', 'br', 'code', 'del', 'div', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i',
    'img', 'li', 'ol', 'p', 'pre', 's', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'th', 'thead',
    'tr', 'u', 'ul',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // An image whose source was refused is nothing at all.
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs['src'],
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...keepUrl(attribs, 'href', LINK), rel: 'noopener noreferrer nofollow', target: '_blank' },
    }),
    img: (tagName, attribs) => ({ tagName, attribs: keepUrl(attribs, 'src', IMAGE) }),
  },
};

/** Sanitised HTML: safe to render in a browser as is. */
export function sanitizeMessageHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
