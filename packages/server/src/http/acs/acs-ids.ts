import type { ConversationId, UserId } from '../../domain/index.js';

// ACS identifiers <-> Parley ids, both ways and without a lookup table: the ACS form is the Parley id
// with its type prefix swapped for the ACS decoration.

/**
 * The fixed "resource" of every Parley deployment inside ACS raw ids (`8:acs:<resource>_<user>`). Fixed
 * rather than per deployment so that raw ids stay valid across restarts, processes and key rotation.
 */
export const ACS_RESOURCE_ID = '5041524c-4559-4143-5300-000000000001';

const USER_PREFIX = 'usr_';
const CONVERSATION_PREFIX = 'cnv_';
const RAW_USER = /^8:acs:([0-9a-f-]+)_([A-Za-z0-9-]+)$/;
const THREAD = /^19:([A-Za-z0-9-]+)@thread\.v2$/;

/** `usr_abc` → `8:acs:<resource>_abc`. Parley id suffixes are `[0-9a-z]`, so they never hold ACS's `_` or `:`. */
export function rawIdOf(userId: string): string {
  return `8:acs:${ACS_RESOURCE_ID}_${userId.startsWith(USER_PREFIX) ? userId.slice(USER_PREFIX.length) : userId}`;
}

/** The Parley user behind an ACS raw id, or undefined when it is not one this server issues. */
export function userIdOf(rawId: string): UserId | undefined {
  const m = RAW_USER.exec(rawId);
  if (!m || m[1] !== ACS_RESOURCE_ID) return undefined;
  return `${USER_PREFIX}${m[2]!}` as UserId;
}

/** `cnv_abc` → `19:abc@thread.v2`, the shape of real ACS thread ids. */
export function threadIdOf(conversationId: string): string {
  return `19:${conversationId.startsWith(CONVERSATION_PREFIX) ? conversationId.slice(CONVERSATION_PREFIX.length) : conversationId}@thread.v2`;
}

/**
 * The conversation behind a thread id. A native `cnv_…` id is accepted as well, so an id handed over
 * from the Parley API works unchanged; anything else names no conversation (the service answers 404).
 */
export function conversationIdOf(threadId: string): ConversationId {
  const m = THREAD.exec(threadId);
  return (m ? `${CONVERSATION_PREFIX}${m[1]!}` : threadId) as ConversationId;
}

/** The identifier model ACS sends for every identity: raw id, kind and the nested user. */
export interface AcsIdentifier {
  rawId: string;
  kind: 'communicationUser';
  communicationUser: { id: string };
}

export function identifierOf(userId: string): AcsIdentifier {
  const id = rawIdOf(userId);
  return { rawId: id, kind: 'communicationUser', communicationUser: { id } };
}
