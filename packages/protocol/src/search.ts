import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageQuerySchema, StringEnum } from './common.js';
import { ConversationKindSchema, ConversationSchema } from './conversations.js';
import { MessageSchema } from './messages.js';

/** Largest page of search results. */
export const MAX_SEARCH_PAGE_SIZE = 100;

const SearchText = Type.String({
  minLength: 1,
  maxLength: 256,
  description:
    'Words match words starting with them (`deploy` finds "deployment"); `"quoted phrases"` match consecutive whole words; ' +
    '`-word` or `-"phrase"` exclude. Case and Latin accents are ignored; Chinese, Japanese and Korean match anywhere in a text.',
});
const Since = Type.String({ format: 'date-time', description: 'Inclusive lower bound' });
const Until = Type.String({ format: 'date-time', description: 'Exclusive upper bound' });

/** How room search orders its results. */
export const ROOM_SEARCH_SORTS = ['relevance', 'activity', 'created'] as const;
export type RoomSearchSort = (typeof ROOM_SEARCH_SORTS)[number];

/** `GET /v1/search/rooms`: text and filters; every filter given must hold. */
export const SearchRoomsQuerySchema = Type.Composite(
  [
    PageQuerySchema,
    Type.Object({
      q: Type.Optional(SearchText),
      public: Type.Optional(Type.Boolean({ description: 'Only public (true) or only private (false) rooms' })),
      active: Type.Optional(Type.Boolean({ description: 'Only active (true) or only deactivated (false) rooms' })),
      creator: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A user id, or `me`: rooms this user created' })),
      owner: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A user id, or `me`: rooms this user owns' })),
      member: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A user id, or `me`: rooms this user is in' })),
      labels: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
          maxItems: 16,
          description: 'Rooms having every one of these keywords (exact, ignoring case and accents); repeat the parameter',
        }),
      ),
      createdSince: Type.Optional(Since),
      createdUntil: Type.Optional(Until),
      sort: Type.Optional(
        StringEnum(ROOM_SEARCH_SORTS, {
          description: '`relevance` (default with `q`), `activity` (most recently active first; default without `q`) or `created` (newest first)',
        }),
      ),
    }),
  ],
  { additionalProperties: false },
);
export type SearchRoomsQuery = Static<typeof SearchRoomsQuerySchema>;

/** One room found, with its relevance score (0 without `q`). */
export const RoomSearchHitSchema = Type.Object(
  { room: ConversationSchema, score: Type.Integer({ description: 'Higher is more relevant; see docs/search.md' }) },
  { title: 'RoomSearchHit' },
);
export type RoomSearchHit = Static<typeof RoomSearchHitSchema>;

export const RoomSearchPageSchema = Type.Object(
  { items: Type.Array(RoomSearchHitSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'RoomSearchPage' },
);
export type RoomSearchPage = Static<typeof RoomSearchPageSchema>;

/** How message search orders its results. */
export const MESSAGE_SEARCH_SORTS = ['relevance', 'newest', 'oldest'] as const;
export type MessageSearchSort = (typeof MESSAGE_SEARCH_SORTS)[number];

/** `GET /v1/search/messages`: over the messages the caller may read. */
export const SearchMessagesQuerySchema = Type.Composite(
  [
    PageQuerySchema,
    Type.Object({
      q: SearchText,
      conversationId: Type.Optional(IdSchema),
      senderId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A user id, or `me`' })),
      since: Type.Optional(Since),
      until: Type.Optional(Until),
      sort: Type.Optional(StringEnum(MESSAGE_SEARCH_SORTS, { description: '`relevance` (default), `newest` or `oldest`' })),
    }),
  ],
  { additionalProperties: false },
);
export type SearchMessagesQuery = Static<typeof SearchMessagesQuerySchema>;

/** A highlighted range of a snippet, in UTF-16 code units: `text.slice(start, end)`. */
export const HighlightSchema = Type.Object({ start: Type.Integer(), end: Type.Integer() }, { title: 'Highlight' });
export type Highlight = Static<typeof HighlightSchema>;

/** An excerpt of a message around its first match, with the matches marked. Plain text: escape it to render. */
export const SnippetSchema = Type.Object(
  {
    text: Type.String({ description: 'Plain text (HTML messages without their tags); `…` marks a cut' }),
    highlights: Type.Array(HighlightSchema),
  },
  { title: 'Snippet' },
);
export type Snippet = Static<typeof SnippetSchema>;

/** One message found, where it is, and why. */
export const MessageSearchHitSchema = Type.Object(
  {
    message: MessageSchema,
    conversation: Type.Object({
      id: IdSchema,
      kind: ConversationKindSchema,
      title: Type.Union([Type.String(), Type.Null()]),
    }),
    snippet: SnippetSchema,
    score: Type.Integer({ description: 'Higher is more relevant; see docs/search.md' }),
  },
  { title: 'MessageSearchHit' },
);
export type MessageSearchHit = Static<typeof MessageSearchHitSchema>;

export const MessageSearchPageSchema = Type.Object(
  { items: Type.Array(MessageSearchHitSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'MessageSearchPage' },
);
export type MessageSearchPage = Static<typeof MessageSearchPageSchema>;
