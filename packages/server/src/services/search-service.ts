import {
  MAX_SEARCH_PAGE_SIZE,
  MESSAGE_SEARCH_SORTS,
  ROOM_SEARCH_SORTS,
  type MessageSearchPage,
  type RoomSearchPage,
  type SearchMessagesQuery,
  type SearchRoomsQuery,
} from '@parley/protocol';
import {
  actsAsAdmin,
  badRequest,
  canRead,
  enforce,
  pageSize,
  parseQuery,
  searchableText,
  snippetOf,
  type Actor,
  type ConversationId,
  type ParsedQuery,
  type UserId,
} from '../domain/index.js';
import type { RoomSearchFilter, SearchKey } from '../store/index.js';
import { loadAccess } from './access.js';
import { encodeCursor } from './cursor.js';
import { decodeQueryCursor, pickShape, type QueryShape } from './query-shape.js';
import { parseTime, renderConversation, renderMessage } from './render.js';
import type { ServiceContext } from './service-context.js';

const ROOM_PARAMS: QueryShape = {
  q: 'string',
  public: 'boolean',
  active: 'boolean',
  creator: 'string',
  owner: 'string',
  member: 'string',
  labels: 'strings',
  createdSince: 'string',
  createdUntil: 'string',
  sort: 'string',
};
const MESSAGE_PARAMS: QueryShape = { q: 'string', conversationId: 'string', senderId: 'string', since: 'string', until: 'string', sort: 'string' };

type RoomParams = Omit<SearchRoomsQuery, 'limit' | 'skip' | 'cursor'>;
type MessageParams = Omit<SearchMessagesQuery, 'limit' | 'skip' | 'cursor'>;

/** The keyset of a checked cursor: [rank, time, id]. */
const searchKey = (k: readonly (number | string)[]): SearchKey => [k[0] as number, k[1] as number, k[2] as string];

/** Parses search text; text with nothing to look for is a client error. */
function parseText(q: string): ParsedQuery {
  const text = parseQuery(q);
  if (text.include.length === 0) throw badRequest('The query has no words to look for (only exclusions or punctuation)', 'q');
  return text;
}

const self = (actor: Actor, id: string | undefined): UserId | undefined => (id === 'me' ? actor.id : (id as UserId | undefined));

/** Finding rooms and messages. */
export class SearchService {
  constructor(private readonly ctx: ServiceContext) {}

  #limit(requested: number | undefined): number {
    const max = Math.min(MAX_SEARCH_PAGE_SIZE, this.ctx.limits.maxPageSize);
    return pageSize(requested, Math.min(this.ctx.limits.defaultPageSize, max), max);
  }

  /**
   * Rooms by text and filters. A user finds public discoverable rooms and the rooms it is in; an admin
   * (acting as admin) finds every room. Others' memberships show only in rooms the caller is in, as the
   * member list does: filtering by another user's membership searches the caller's own rooms.
   */
  async rooms(actor: Actor, query: SearchRoomsQuery): Promise<RoomSearchPage> {
    const limit = this.#limit(query.limit);
    const cursor = query.cursor === undefined ? undefined : decodeQueryCursor<RoomParams>(query.cursor, ROOM_PARAMS, 3);
    const p: RoomParams = cursor?.p ?? pickShape(query, ROOM_PARAMS);
    if (p.sort !== undefined && !(ROOM_SEARCH_SORTS as readonly string[]).includes(p.sort)) throw badRequest('The cursor is not valid', 'cursor');
    const text = p.q === undefined ? undefined : parseText(p.q);
    const sort = p.sort ?? (text ? 'relevance' : 'activity');
    const owner = self(actor, p.owner);
    const member = self(actor, p.member);
    const all = actsAsAdmin(actor);
    const filter: RoomSearchFilter = {
      ...(p.public !== undefined ? { public: p.public } : {}),
      ...(p.active !== undefined ? { active: p.active } : {}),
      ...(p.creator !== undefined ? { createdBy: self(actor, p.creator)! } : {}),
      ...(owner !== undefined ? { owner } : {}),
      ...(member !== undefined ? { member } : {}),
      ...(p.labels !== undefined ? { labels: p.labels } : {}),
      ...(p.createdSince !== undefined ? { createdSince: parseTime(p.createdSince, 'createdSince') } : {}),
      ...(p.createdUntil !== undefined ? { createdUntil: parseTime(p.createdUntil, 'createdUntil') } : {}),
    };
    const mine = !all && ((owner !== undefined && owner !== actor.id) || (member !== undefined && member !== actor.id));
    const hits = await this.ctx.store.search.searchRooms({
      ...(text ? { text } : {}),
      filter,
      viewer: actor.id,
      all,
      mine,
      sort,
      page: { limit: limit + 1, ...(cursor ? { after: searchKey(cursor.k) } : { skip: query.skip ?? 0 }) },
    });
    const page = hits.slice(0, limit);
    const items = await Promise.all(
      page.map(async (h) => {
        const unreadCount =
          h.role === null
            ? 0
            : await this.ctx.store.messages.countUnread(h.conversation.id, { userId: actor.id, historyFrom: h.historyFrom }, h.lastReadSeq);
        return {
          room: renderConversation(h.conversation, h.role === null ? null : { role: h.role, lastReadSeq: h.lastReadSeq, unreadCount }),
          score: h.score,
        };
      }),
    );
    const last = page.at(-1);
    const nextCursor =
      hits.length > limit && last
        ? encodeCursor({ k: [sort === 'relevance' ? last.score : 0, last.sortTime, last.conversation.id], p })
        : null;
    return { items, nextCursor };
  }

  /**
   * Messages by text, over what the caller may read: conversations it is a member of, messages from
   * its share-history time on, addressed to everyone or to it, not deleted. Admins search as members.
   */
  async messages(actor: Actor, query: SearchMessagesQuery): Promise<MessageSearchPage> {
    const limit = this.#limit(query.limit);
    const cursor = query.cursor === undefined ? undefined : decodeQueryCursor<MessageParams>(query.cursor, MESSAGE_PARAMS, 3);
    const p: MessageParams = cursor?.p ?? (pickShape(query, MESSAGE_PARAMS) as MessageParams);
    if (typeof p.q !== 'string' || (p.sort !== undefined && !(MESSAGE_SEARCH_SORTS as readonly string[]).includes(p.sort))) {
      throw badRequest('The cursor is not valid', 'cursor');
    }
    const text = parseText(p.q);
    const sort = p.sort ?? 'relevance';
    if (p.conversationId !== undefined) {
      // Searching one conversation answers like reading it: 404 when hidden, 403 for non-members.
      const access = await loadAccess(this.ctx.store, p.conversationId as ConversationId, actor);
      enforce(canRead(actor, access.conv, access.facts), 'conversationId');
    }
    const senderId = self(actor, p.senderId);
    const hits = await this.ctx.store.search.searchMessages({
      text,
      viewer: actor.id,
      ...(p.conversationId !== undefined ? { conversationId: p.conversationId as ConversationId } : {}),
      ...(senderId !== undefined ? { senderId } : {}),
      ...(p.since !== undefined ? { since: parseTime(p.since, 'since') } : {}),
      ...(p.until !== undefined ? { until: parseTime(p.until, 'until') } : {}),
      sort,
      page: { limit: limit + 1, ...(cursor ? { after: searchKey(cursor.k) } : { skip: query.skip ?? 0 }) },
    });
    const page = hits.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((h) => ({
        message: renderMessage(h.message),
        conversation: h.conversation,
        snippet: snippetOf(searchableText(h.message), text),
        score: h.score,
      })),
      nextCursor:
        hits.length > limit && last
          ? encodeCursor({ k: [sort === 'relevance' ? last.score : 0, last.message.createdAt, last.message.id], p })
          : null,
    };
  }
}
