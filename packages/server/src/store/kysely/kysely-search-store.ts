import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { ConversationKind, MemberRole } from '@parley/protocol';
import { labelNeedle, phraseOf, unitNeedles, type ConversationId, type ParsedQuery, type QueryUnit } from '../../domain/index.js';
import type { MessageHit, MessageSearchQuery, RoomHit, RoomSearchQuery, SearchKey, SearchStore } from '../store.js';
import type { StoreDialect } from './dialects/store-dialect.js';
import { conversationFromRow, messageFromRow } from './rows.js';
import type { Database } from './schema.js';

// Ranking, the same on every database because it is computed from the token strings alone:
// a unit (word or phrase) found as whole words scores 2, as a prefix 1, times the field's weight
// (rooms: title 4, description 2, keywords 1; messages: 1). Bonuses: all terms together as one
// phrase (+2 per term); rooms whose title is exactly the query (+8) or starts with it (+4).
const ROOM_FIELDS = [
  ['rs.title', 4],
  ['rs.description', 2],
  ['rs.keywords', 1],
] as const;
const PHRASE_BONUS_PER_TERM = 2;
const TITLE_EXACT_BONUS = 8;
const TITLE_START_BONUS = 4;

type Num = RawBuilder<number>;
const sum = (parts: readonly Num[]): Num => (parts.length === 0 ? sql<number>`0` : sql<number>`(${sql.join(parts, sql` + `)})`);

/** Keyset condition over [rank, time, id] in the sort's direction (row values: both databases have them). */
const keyset = ([rank, time, id]: SearchKey, dir: 'asc' | 'desc'): RawBuilder<SqlBool> =>
  sql<SqlBool>`(rank, sort_time, id) ${sql.raw(dir === 'asc' ? '>' : '<')} (${rank}, ${time}, ${id})`;

export class KyselySearchStore implements SearchStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly seam: StoreDialect,
    /** Brings the message index up to date before a message search (SQLite's search backlog). */
    private readonly catchUp?: () => Promise<void>,
  ) {}

  /** Does the token string in `field` hold the unit as whole words (2), only as a prefix (1), or not (0)? */
  #unitScore(field: string, unit: QueryUnit, weight: number): Num {
    const { whole, prefix } = unitNeedles(unit);
    const ref = sql.ref<string>(field);
    const w = this.seam.position(ref, whole);
    if (prefix === null) return sql<number>`(case when ${w} > 0 then ${sql.lit(2 * weight)} else 0 end)`;
    const p = this.seam.position(ref, prefix);
    return sql<number>`(case when ${w} > 0 then ${sql.lit(2 * weight)} when ${p} > 0 then ${sql.lit(weight)} else 0 end)`;
  }

  /** True when any of `fields` holds the unit (as a prefix, when it may be one). */
  #holds(fields: readonly string[], unit: QueryUnit, wholeOnly = false): Expression<SqlBool> {
    const { whole, prefix } = unitNeedles(unit);
    const needle = wholeOnly || prefix === null ? whole : prefix;
    return sql<SqlBool>`(${sql.join(
      fields.map((f) => sql`${this.seam.position(sql.ref<string>(f), needle)} > 0`),
      sql` or `,
    )})`;
  }

  /** The text conditions: the index narrows, the token strings decide. */
  #textConditions(table: 'room_search' | 'message_search', alias: string, fields: readonly string[], text: ParsedQuery): Expression<SqlBool>[] {
    if (text.include.length === 0) return [];
    return [
      this.seam.fullTextMatch(table, alias, text.include),
      ...text.include.map((u) => this.#holds(fields, u)),
      ...text.exclude.map((u) => sql<SqlBool>`not ${this.#holds(fields, u, true)}`),
    ];
  }

  async searchRooms(query: RoomSearchQuery): Promise<RoomHit[]> {
    const text = query.text ?? { include: [], exclude: [] };
    const units = text.include;
    const fields = ROOM_FIELDS.map(([f]) => f);
    const parts: Num[] = units.flatMap((u) => ROOM_FIELDS.map(([f, w]) => this.#unitScore(f, u, w)));
    const phrase = phraseOf(text);
    if (phrase) parts.push(sql<number>`(case when ${this.#holds(fields, phrase)} then ${sql.lit(PHRASE_BONUS_PER_TERM * units.length)} else 0 end)`);
    if (units.length > 0) {
      const all = unitNeedles({ tokens: units.flatMap((u) => u.tokens), prefix: false }).whole;
      const title = sql.ref<string>('rs.title');
      parts.push(
        sql<number>`(case when ${title} = ${all} then ${sql.lit(TITLE_EXACT_BONUS)} when ${this.seam.position(title, all)} = 1 then ${sql.lit(TITLE_START_BONUS)} else 0 end)`,
      );
    }
    const score = sum(parts);
    const time = query.sort === 'created' ? sql.ref<number>('c.created_at') : sql.ref<number>('c.last_activity_at');
    const { filter, viewer } = query;

    let q = this.db
      .selectFrom('conversations as c')
      .innerJoin('room_search as rs', 'rs.conversation_id', 'c.id')
      .leftJoin('members as me', (join) => join.onRef('me.conversation_id', '=', 'c.id').on('me.user_id', '=', viewer))
      .selectAll('c')
      .select(['me.role as viewer_role', 'me.last_read_seq as viewer_last_read_seq', 'me.history_from as viewer_history_from'])
      .select(score.as('score'))
      .select((query.sort === 'relevance' ? score : sql<number>`0`).as('rank'))
      .select(time.as('sort_time'))
      .where('c.kind', '=', 'room')
      .where('c.deleted_at', 'is', null);
    if (!query.all) {
      q = q.where((eb) => eb.or([eb.and([eb('c.public', '=', 1), eb('c.discoverable', '=', 1)]), eb('me.user_id', 'is not', null)]));
    }
    if (query.mine) q = q.where('me.user_id', 'is not', null);
    if (filter.public !== undefined) q = q.where('c.public', '=', filter.public ? 1 : 0);
    if (filter.active !== undefined) q = q.where('c.active', '=', filter.active ? 1 : 0);
    if (filter.createdBy !== undefined) q = q.where('c.created_by', '=', filter.createdBy);
    if (filter.createdSince !== undefined) q = q.where('c.created_at', '>=', filter.createdSince);
    if (filter.createdUntil !== undefined) q = q.where('c.created_at', '<', filter.createdUntil);
    for (const [userId, role] of [
      [filter.member, null],
      [filter.owner, 'owner'],
    ] as const) {
      if (userId === undefined) continue;
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('members as fm')
            .select('fm.user_id')
            .whereRef('fm.conversation_id', '=', 'c.id')
            .where('fm.user_id', '=', userId)
            .$if(role !== null, (sub) => sub.where('fm.role', '=', 'owner')),
        ),
      );
    }
    for (const label of filter.labels ?? []) {
      const needle = labelNeedle(label);
      // A label that folds to nothing matches nothing.
      q = needle === undefined ? q.where(sql<SqlBool>`1 = 0`) : q.where(sql<SqlBool>`${this.seam.position(sql.ref<string>('rs.labels'), needle)} > 0`);
    }
    for (const condition of this.#textConditions('room_search', 'rs', fields, text)) q = q.where(condition);

    let page = this.db.selectFrom(q.as('hits')).selectAll();
    if (query.page.after !== undefined) {
      page = page.where(keyset(query.page.after, 'desc'));
    }
    page = page.orderBy('rank', 'desc').orderBy('sort_time', 'desc').orderBy('id', 'desc').limit(query.page.limit);
    if (query.page.skip) page = page.offset(query.page.skip);
    const rows = await page.execute();
    return rows.map((r) => ({
      conversation: conversationFromRow(r),
      score: Number(r.score),
      role: (r.viewer_role ?? null) as MemberRole | null,
      lastReadSeq: Number(r.viewer_last_read_seq ?? 0),
      historyFrom: r.viewer_history_from === null ? null : Number(r.viewer_history_from),
      sortTime: Number(r.sort_time),
    }));
  }

  async searchMessages(query: MessageSearchQuery): Promise<MessageHit[]> {
    await this.catchUp?.();
    const { text, viewer } = query;
    const fields = ['s.tokens'];
    const parts: Num[] = text.include.map((u) => this.#unitScore('s.tokens', u, 1));
    const phrase = phraseOf(text);
    if (phrase) parts.push(sql<number>`(case when ${this.#holds(fields, phrase)} then ${sql.lit(PHRASE_BONUS_PER_TERM * text.include.length)} else 0 end)`);
    const score = sum(parts);

    let q = this.db
      .selectFrom('message_search as s')
      .innerJoin('messages as m', 'm.id', 's.message_id')
      .innerJoin('members as mem', (join) => join.onRef('mem.conversation_id', '=', 'm.conversation_id').on('mem.user_id', '=', viewer))
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .selectAll('m')
      .select(['c.kind as conversation_kind', 'c.title as conversation_title'])
      .select(score.as('score'))
      .select((query.sort === 'relevance' ? score : sql<number>`0`).as('rank'))
      .select('m.created_at as sort_time')
      .where('c.deleted_at', 'is', null)
      .where('m.deleted_at', 'is', null)
      .where('m.type', '!=', 'system')
      .where((eb) => eb.or([eb('m.visible_to', 'is', null), eb('m.visible_to', '=', viewer), eb('m.sender_id', '=', viewer)]))
      .where((eb) => eb.or([eb('mem.history_from', 'is', null), eb('m.created_at', '>=', eb.ref('mem.history_from'))]));
    if (query.conversationId !== undefined) q = q.where('m.conversation_id', '=', query.conversationId);
    if (query.senderId !== undefined) q = q.where('m.sender_id', '=', query.senderId);
    if (query.since !== undefined) q = q.where('m.created_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('m.created_at', '<', query.until);
    const conditions = this.#textConditions('message_search', 's', fields, text);
    if (conditions.length === 0) return [];
    for (const condition of conditions) q = q.where(condition);

    const dir = query.sort === 'oldest' ? 'asc' : 'desc';
    let page = this.db.selectFrom(q.as('hits')).selectAll();
    if (query.page.after !== undefined) {
      page = page.where(keyset(query.page.after, dir));
    }
    page = page.orderBy('rank', dir).orderBy('sort_time', dir).orderBy('id', dir).limit(query.page.limit);
    if (query.page.skip) page = page.offset(query.page.skip);
    const rows = await page.execute();
    return rows.map((r) => ({
      message: messageFromRow(r),
      conversation: { id: r.conversation_id as ConversationId, kind: r.conversation_kind as ConversationKind, title: r.conversation_title },
      score: Number(r.score),
    }));
  }
}
