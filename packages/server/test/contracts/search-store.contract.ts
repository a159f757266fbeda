import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '@parley/server';
import { newId, parseQuery, type ConversationRecord, type MessageRecord, type UserId, type UserRecord } from '../../src/domain/index.js';
import type { MessageSearchQuery, RoomSearchQuery, SearchKey } from '../../src/store/index.js';
import type { StoreImpl } from '../helpers/test-stores.js';
import { aConversation, aMessage, aUser } from './fixtures.js';

const T0 = 1_700_000_000_000;

/** The contract of the search store and of the indexes the room and message stores keep for it. */
export function describeSearchStore(impl: StoreImpl): void {
  describe(`${impl.name}: search store contract`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await impl.open();
    });
    afterAll(() => store.close());

    async function users(n: number): Promise<UserRecord[]> {
      const made = Array.from({ length: n }, () => aUser());
      for (const u of made) await store.users.insert(u);
      return made;
    }

    async function join(conv: ConversationRecord, userId: UserId, role: 'owner' | 'member' = 'member', historyFrom: number | null = null) {
      await store.members.insert({ conversationId: conv.id, userId, role, historyFrom, joinedAt: T0 });
    }

    describe('rooms', () => {
      let viewer: UserRecord;
      let owner: UserRecord;
      let other: UserRecord;
      let rooms: Record<string, ConversationRecord>;
      const ids = (hits: { conversation: { id: string } }[]) => hits.map((h) => h.conversation.id);
      const names = (hits: { conversation: { id: string } }[]) =>
        hits.map((h) => Object.entries(rooms).find(([, r]) => r.id === h.conversation.id)?.[0] ?? '?');
      const search = (overrides: Partial<RoomSearchQuery> & { q?: string }) => {
        const { q, ...rest } = overrides;
        return store.search.searchRooms({
          ...(q !== undefined ? { text: parseQuery(q) } : {}),
          filter: {},
          viewer: viewer.id,
          all: false,
          sort: 'relevance',
          page: { limit: 100 },
          ...rest,
        });
      };
      /** Our rooms only: other tests share the store. */
      const ours = <T extends { conversation: { id: string } }>(hits: T[]): T[] => hits.filter((h) => Object.values(rooms).some((r) => r.id === h.conversation.id));

      beforeAll(async () => {
        [viewer, owner, other] = (await users(3)) as [UserRecord, UserRecord, UserRecord];
        const room = (n: number, o: Partial<ConversationRecord>) =>
          aConversation(owner!.id, { public: true, discoverable: true, keywords: [], description: '', createdAt: T0 + n, lastActivityAt: T0 + 1000 + n, ...o });
        rooms = {
          exact: room(1, { title: 'Design' }),
          starts: room(2, { title: 'Design reviews', description: 'Weekly critique' }),
          word: room(3, { title: 'UX design' }),
          prefix: room(4, { title: 'Designers lounge', lastActivityAt: T0 + 5000 }),
          described: room(5, { title: 'Lunch', description: 'We discuss design over food' }),
          labelled: room(6, { title: 'Random', keywords: ['Design', 'Fun stuff'], createdBy: other!.id }),
          privateHidden: room(7, { title: 'Design private', public: false, discoverable: false }),
          privateMine: room(8, { title: 'Secret design', public: false, discoverable: false, lastActivityAt: T0 + 4000 }),
          undiscoverable: room(9, { title: 'Design archive', discoverable: false }),
          inactive: room(10, { title: 'Old design', active: false, lastActivityAt: T0 + 10 }),
          cafe: room(11, { title: 'Café Society', description: 'Crème brûlée fans' }),
          tokyo: room(12, { title: '東京オフィス', description: '明日は東京都で会議があります' }),
          group: aConversation(owner!.id, { kind: 'group', title: 'Design group', public: false }),
        };
        for (const r of Object.values(rooms)) {
          await store.conversations.insert(r);
          await join(r, owner!.id, 'owner');
        }
        await join(rooms['privateMine']!, viewer!.id);
        await join(rooms['word']!, other!.id, 'owner');
      });

      it('ranks title over description over keywords, whole words over prefixes, exact and leading titles first', async () => {
        const hits = ours(await search({ q: 'design' }));
        expect(names(hits)).toEqual(['exact', 'starts', 'privateMine', 'word', 'inactive', 'prefix', 'described', 'labelled']);
        expect(hits.map((h) => h.score)).toEqual([16, 12, 8, 8, 8, 4, 4, 2]);
      });

      it('needs every term, and ranks the terms together as a phrase higher', async () => {
        expect(names(ours(await search({ q: 'design reviews' })))).toEqual(['starts']);
        expect(names(ours(await search({ q: 'design -reviews -lounge -old' })))).toEqual(['exact', 'privateMine', 'word', 'described', 'labelled']);
        expect(names(ours(await search({ q: '"design over"' })))).toEqual(['described']);
      });

      it('shows non-members only public discoverable rooms and their own; admins see every room, never other kinds', async () => {
        const visible = names(ours(await search({ q: 'design' })));
        expect(visible).not.toContain('privateHidden');
        expect(visible).not.toContain('undiscoverable');
        expect(visible).not.toContain('group');
        const all = names(ours(await search({ q: 'design', all: true })));
        expect(all).toEqual(expect.arrayContaining(['privateHidden', 'undiscoverable', 'privateMine']));
        expect(all).not.toContain('group');
      });

      it('ignores case and accents, and finds CJK text anywhere', async () => {
        expect(names(ours(await search({ q: 'CAFE society' })))).toEqual(['cafe']);
        expect(names(ours(await search({ q: 'creme brulee' })))).toEqual(['cafe']);
        expect(names(ours(await search({ q: '東京' })))).toEqual(['tokyo']);
        expect(names(ours(await search({ q: 'オフィス' })))).toEqual(['tokyo']);
        expect(names(ours(await search({ q: '会議' })))).toEqual(['tokyo']);
        expect(names(ours(await search({ q: '大阪' })))).toEqual([]);
      });

      it('follows title, description and keyword changes, and forgets deleted rooms', async () => {
        const r = aConversation(owner.id, { title: 'Zeppelin hangar', public: true, discoverable: true });
        await store.conversations.insert(r);
        expect(ids(await search({ q: 'zeppelin' }))).toEqual([r.id]);
        await store.conversations.update(r.id, { title: 'Blimp hangar' });
        expect(ids(await search({ q: 'zeppelin' }))).toEqual([]);
        expect(ids(await search({ q: 'blimp' }))).toEqual([r.id]);
        await store.conversations.update(r.id, { keywords: ['airship'], description: 'Lighter than air' });
        expect(ids(await search({ q: 'airship lighter' }))).toEqual([r.id]);
        await store.conversations.markDeleted(r.id, T0);
        expect(ids(await search({ q: 'blimp' }))).toEqual([]);
      });

      it('filters by visibility, state, creator, owner, member, labels and creation time', async () => {
        const q = 'design';
        expect(names(ours(await search({ q, filter: { public: false } })))).toEqual(['privateMine']);
        expect(names(ours(await search({ q, filter: { active: false } })))).toEqual(['inactive']);
        expect(names(ours(await search({ q, filter: { createdBy: other.id } })))).toEqual(['labelled']);
        expect(names(ours(await search({ q, filter: { owner: other.id } })))).toEqual(['word']);
        expect(names(ours(await search({ q, filter: { member: viewer.id } })))).toEqual(['privateMine']);
        expect(names(ours(await search({ q, mine: true })))).toEqual(['privateMine']);
        expect(names(ours(await search({ filter: { labels: ['design', 'FUN STUFF'] } })))).toEqual(['labelled']);
        expect(names(ours(await search({ filter: { labels: ['fun'] } })))).toEqual([]);
        expect(names(ours(await search({ q, filter: { createdSince: T0 + 2, createdUntil: T0 + 4 } })))).toEqual(['starts', 'word']);
      });

      it('without text lists by activity or creation, newest first, with score 0', async () => {
        const byActivity = ours(await search({ sort: 'activity' }));
        expect(names(byActivity).slice(0, 3)).toEqual(['prefix', 'privateMine', 'tokyo']);
        expect(byActivity.every((h) => h.score === 0)).toBe(true);
        expect(names(ours(await search({ sort: 'created' }))).slice(0, 2)).toEqual(['tokyo', 'cafe']);
        const byRelevance = ours(await search({ q: 'design', sort: 'activity' }));
        expect(names(byRelevance)[0]).toBe('prefix');
        expect(byRelevance[0]!.score).toBe(4);
      });

      it('returns the viewer\'s role and read position', async () => {
        const [mine] = await search({ q: 'secret' });
        expect(mine).toMatchObject({ role: 'member', lastReadSeq: 0 });
        const [theirs] = await search({ q: 'lunch' });
        expect(theirs).toMatchObject({ role: null });
      });

      it('pages by keyset and by skip without losing or repeating a hit', async () => {
        const all = await search({ q: 'design', all: true });
        expect(all.length).toBeGreaterThan(5);
        const pages: string[][] = [];
        let after: SearchKey | undefined;
        for (;;) {
          const page = await search({ q: 'design', all: true, page: { limit: 3, ...(after ? { after } : {}) } });
          expect(page.length).toBeLessThanOrEqual(3);
          if (page.length === 0) break;
          pages.push(ids(page));
          const last = page.at(-1)!;
          after = [last.score, last.sortTime, last.conversation.id];
        }
        expect(pages.flat()).toEqual(ids(all));
        expect(ids(await search({ q: 'design', all: true, page: { limit: 2, skip: 2 } }))).toEqual(ids(all).slice(2, 4));
      });
    });

    describe('messages', () => {
      let viewer: UserRecord;
      let friend: UserRecord;
      let third: UserRecord;
      let shared: ConversationRecord;
      let foreign: ConversationRecord;
      let late: ConversationRecord;
      let m: Record<string, MessageRecord>;
      const names = (hits: { message: { id: string } }[]) =>
        hits.map((h) => Object.entries(m).find(([, x]) => x.id === h.message.id)?.[0] ?? '?');
      const search = (q: string, overrides: Partial<MessageSearchQuery> = {}) =>
        store.search.searchMessages({ text: parseQuery(q), viewer: viewer.id, sort: 'relevance', page: { limit: 100 }, ...overrides });

      beforeAll(async () => {
        [viewer, friend, third] = (await users(3)) as [UserRecord, UserRecord, UserRecord];
        shared = aConversation(friend!.id, { kind: 'group', title: null });
        foreign = aConversation(friend!.id, { title: 'Not mine' });
        late = aConversation(friend!.id, { title: 'Joined late' });
        for (const c of [shared, foreign, late]) await store.conversations.insert(c);
        for (const u of [viewer!, friend!, third!]) await join(shared, u.id);
        await join(foreign, friend!.id, 'owner');
        await join(late, friend!.id, 'owner');
        await join(late, viewer!.id, 'member', T0 + 500);
        const msg = (c: ConversationRecord, seq: number, content: string, at: number, o: Partial<MessageRecord> = {}) =>
          aMessage(c, seq, friend!.id, { content, createdAt: T0 + at, ...o });
        m = {
          tonight: msg(shared, 1, 'Deploy the release tonight', 10),
          finished: msg(shared, 2, 'Deployment finished without errors', 20),
          notes: msg(shared, 3, 'Release notes for the deploy', 30),
          whisper: msg(shared, 4, 'deploy secret for third', 40, { visibleTo: third!.id }),
          mine: msg(shared, 5, 'deploy note meant for friend', 50, { senderId: viewer!.id, visibleTo: friend!.id }),
          removed: msg(shared, 6, 'deploy that was deleted', 60),
          system: msg(shared, 7, 'deploy system notice', 70, { type: 'system', senderId: 'usr_system' as UserId }),
          html: msg(shared, 8, '<p>Deploy<b>ment</b> of the <i>café</i> menu &amp; more</p>', 80, { type: 'html' }),
          japanese: msg(shared, 9, '明日は東京都で会議があります', 90),
          chinese: msg(shared, 10, '我们下午开会讨论预算', 100),
          french: msg(shared, 11, 'Crème brûlée à Noël', 110),
          elsewhere: msg(foreign, 1, 'deploy elsewhere', 120),
          ancient: msg(late, 1, 'deploy before joining', 130 - 100),
          recent: msg(late, 2, 'deploy after joining', 600),
          bySelf: msg(shared, 12, 'deploying by myself', 700, { senderId: viewer!.id }),
        };
        for (const x of Object.values(m)) await store.messages.append(x);
        await store.messages.update(m['removed']!.id, { content: '', deletedAt: T0 + 61 });
      });

      it('finds only what the viewer may read: membership, history, visibleTo, no deleted or system messages', async () => {
        const found = names(await search('deploy'));
        expect(found).toEqual(expect.arrayContaining(['tonight', 'finished', 'notes', 'mine', 'html', 'recent', 'bySelf']));
        for (const hidden of ['whisper', 'removed', 'system', 'elsewhere', 'ancient']) expect(found).not.toContain(hidden);
      });

      it('ranks whole words over prefixes, then newest first', async () => {
        const hits = await search('deploy');
        expect(names(hits)).toEqual(['recent', 'mine', 'notes', 'tonight', 'bySelf', 'html', 'finished']);
        expect(hits.map((h) => h.score)).toEqual([2, 2, 2, 2, 1, 1, 1]);
        expect(hits[0]!.conversation).toEqual({ id: late.id, kind: 'room', title: 'Joined late' });
      });

      it('ranks the terms as a phrase above the terms apart, and honours exclusions and quoted phrases', async () => {
        // Apart, equal scores go newest first; together as a phrase, the older one wins.
        expect(names(await search('release deploy'))).toEqual(['notes', 'tonight']);
        expect(names(await search('deploy the release'))).toEqual(['tonight', 'notes']);
        expect((await search('deploy the release')).map((h) => h.score)).toEqual([12, 6]);
        expect(names(await search('"release notes"'))).toEqual(['notes']);
        expect(names(await search('deploy -release -joining'))).toEqual(['mine', 'bySelf', 'html', 'finished']);
      });

      it('sorts by newest or oldest when asked', async () => {
        expect(names(await search('deploy', { sort: 'newest' }))).toEqual(['bySelf', 'recent', 'html', 'mine', 'notes', 'finished', 'tonight']);
        expect(names(await search('deploy', { sort: 'oldest' }))).toEqual(['tonight', 'finished', 'notes', 'mine', 'html', 'recent', 'bySelf']);
      });

      it('finds Chinese, Japanese and accented text, and text inside HTML', async () => {
        expect(names(await search('東京'))).toEqual(['japanese']);
        expect(names(await search('会議'))).toEqual(['japanese']);
        expect(names(await search('東京都'))).toEqual(['japanese']);
        expect(names(await search('京'))).toEqual(['japanese']);
        expect(names(await search('预算'))).toEqual(['chinese']);
        expect(names(await search('开会讨论'))).toEqual(['chinese']);
        expect(names(await search('讨论会'))).toEqual([]);
        expect(names(await search('creme brulee noel'))).toEqual(['french']);
        expect(names(await search('CRÈME'))).toEqual(['french']);
        expect(names(await search('cafe menu'))).toEqual(['html']);
        expect(names(await search('deployment'))).toEqual(['html', 'finished']);
      });

      it('filters by conversation, sender and time', async () => {
        expect(names(await search('deploy', { conversationId: late.id }))).toEqual(['recent']);
        expect(names(await search('deploy', { senderId: viewer.id }))).toEqual(['mine', 'bySelf']);
        expect(names(await search('deploy', { since: T0 + 30, until: T0 + 80 }))).toEqual(['mine', 'notes']);
      });

      it('re-indexes edits and drops deletes in the same write', async () => {
        const c = aConversation(viewer.id, { kind: 'group', title: null });
        await store.conversations.insert(c);
        await join(c, viewer.id);
        const x = aMessage(c, 1, viewer.id, { content: 'the quokka is happy' });
        await store.messages.append(x);
        expect((await search('quokka')).map((h) => h.message.id)).toEqual([x.id]);
        await store.transaction(async (tx) => tx.messages.update(x.id, { content: 'the wombat is happy', version: 2, editedAt: T0 }));
        expect(await search('quokka')).toEqual([]);
        const [edited] = await search('wombat');
        expect(edited!.message).toMatchObject({ id: x.id, content: 'the wombat is happy', version: 2 });
        await store.messages.update(x.id, { metadata: { a: 'b' } });
        expect(await search('wombat')).toHaveLength(1);
        await store.messages.update(x.id, { content: '', deletedAt: T0 });
        expect(await search('wombat')).toEqual([]);
      });

      it('rolls the index back with the write that failed', async () => {
        const c = aConversation(viewer.id, { kind: 'group', title: null });
        await store.conversations.insert(c);
        await join(c, viewer.id);
        const x = aMessage(c, 1, viewer.id, { content: 'platypus sighting' });
        await expect(
          store.transaction(async (tx) => {
            await tx.messages.append(x);
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(await search('platypus')).toEqual([]);
      });

      it('stops finding a conversation\'s messages when the viewer leaves it or it is deleted', async () => {
        const c = aConversation(friend.id, { kind: 'group', title: null });
        await store.conversations.insert(c);
        await join(c, viewer.id);
        await join(c, friend.id);
        await store.messages.append(aMessage(c, 1, friend.id, { content: 'narwhal tusk' }));
        expect(await search('narwhal')).toHaveLength(1);
        await store.members.remove(c.id, viewer.id);
        expect(await search('narwhal')).toHaveLength(0);
        await join(c, viewer.id);
        await store.conversations.markDeleted(c.id, T0);
        expect(await search('narwhal')).toHaveLength(0);
      });

      it('pages by keyset and skip: the pages flattened are the whole result', async () => {
        for (const sort of ['relevance', 'newest', 'oldest'] as const) {
          const all = (await search('deploy', { sort })).map((h) => h.message.id);
          const pages: string[] = [];
          let after: SearchKey | undefined;
          for (;;) {
            const page = await search('deploy', { sort, page: { limit: 2, ...(after ? { after } : {}) } });
            expect(page.length).toBeLessThanOrEqual(2);
            if (page.length === 0) break;
            pages.push(...page.map((h) => h.message.id));
            const last = page.at(-1)!;
            after = [sort === 'relevance' ? last.score : 0, last.message.createdAt, last.message.id];
          }
          expect(pages).toEqual(all);
          expect((await search('deploy', { sort, page: { limit: 3, skip: 2 } })).map((h) => h.message.id)).toEqual(all.slice(2, 5));
        }
      });

      it('answers an empty result for a query with no included terms', async () => {
        expect(await search('-deploy')).toEqual([]);
        expect(await search('!!!')).toEqual([]);
      });

      it('handles text the tokenizer cuts, and quotes in queries, without an error', async () => {
        const long = `${'x'.repeat(300)} tail`;
        const c = aConversation(viewer.id, { kind: 'group', title: null });
        await store.conversations.insert(c);
        await join(c, viewer.id);
        const x = aMessage(c, 1, viewer.id, { content: long });
        await store.messages.append(x);
        expect((await search('x'.repeat(80))).map((h) => h.message.id)).toEqual([x.id]);
        expect(await search(`it's "quoted \\ odd' stuff`)).toEqual([]);
        // Many distinct CJK bigrams (a tsvector has a size limit), and a text longer than what is indexed.
        let seed = 7;
        const cjk = Array.from({ length: 28_000 }, () => String.fromCharCode(0x4e00 + ((seed = (seed * 48271) % 2147483647) % 20000))).join('');
        const big = aMessage(c, 2, viewer.id, { content: cjk });
        await store.messages.append(big);
        expect((await search(cjk.slice(1000, 1004))).map((h) => h.message.id)).toEqual([big.id]);
        const huge = aMessage(c, 3, viewer.id, { content: `${'word '.repeat(60_000)}needle` });
        await store.messages.append(huge);
        expect((await search('word')).map((h) => h.message.id)).toEqual([huge.id]);
        expect(await search('needle')).toEqual([]);
        expect(newId('audit')).toMatch(/^aud_/);
      });
    });
  });
}
