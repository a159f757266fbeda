import type { MessageType } from '@parley/protocol';

const MAX_MENTIONS = 50;
// A handle after `@`, not inside a word or an e-mail address (`a@b.example` names nobody).
const MENTION = /(?<![A-Za-z0-9._%+-])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})/g;

/**
 * The handles a message names with `@handle`, lower-cased (handles are case-insensitive), once each in
 * order of first mention, at most 50. HTML is read as its text; shares and system messages name nobody.
 */
export function mentionedHandles(type: MessageType, content: string): string[] {
  // Most messages name nobody: no `@`, no scan.
  if ((type !== 'text' && type !== 'html') || !content.includes('@')) return [];
  const text = type === 'html' ? content.replace(/<[^>]*>/g, ' ') : content;
  const found = new Set<string>();
  for (const m of text.matchAll(MENTION)) {
    // A trailing dot ends a sentence, not the handle.
    found.add(m[1]!.replace(/[._-]+$/, '').toLowerCase());
    if (found.size >= MAX_MENTIONS) break;
  }
  return [...found].filter((h) => h.length > 0);
}
