import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyCredential, ParleyClient, RefreshingTokenCredential, StaticTokenCredential } from '@parley/sdk';
import { runExample } from './helpers/run-example.js';
import { startTestServer, type TestServer, type TestUser } from './helpers/test-server.js';
import { storeImpls } from './helpers/stores.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(join(root, 'docs/coming-from.md'), 'utf8');

interface Row {
  section: string;
  operation: string;
  sdk: string;
  rest: string;
}

/** The mapping rows of docs/coming-from.md: every table under a `## ` heading, first column a source operation. */
function rows(): Row[] {
  const out: Row[] = [];
  let section = '';
  for (const line of doc.split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (section === '' || !line.startsWith('| ') || line.startsWith('| ---')) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.length !== 4 || cells[1] === 'Parley SDK') continue;
    out.push({ section, operation: cells[0]!, sdk: cells[1]!, rest: cells[2]! });
  }
  return out;
}

const ROWS = rows();
const [impl] = await storeImpls();
describe('docs/coming-from.md', () => {
  it('maps every source document, one row per operation', () => {
    const sections = new Set(ROWS.map((r) => r.section));
    expect([...sections]).toEqual([
      'Symphony BDK `StreamService`',
      'The `chat.chats` module (humans and bots)',
      'Azure Communication Services: identity and `ChatClient`',
      'Azure Communication Services: `ChatThreadClient`',
      'Teamwire bot SDK: chats',
    ]);
    // Every method of the source documents (their method lists) has its row.
    const names = ROWS.map((r) => r.operation).join('\n');
    const expected = [
      'add_member_to_room', 'create_im_admin', 'create_im_or_mim', 'create_room', 'demote_owner_to_room_participant', 'get_im_info',
      'get_room_info', 'get_stream', 'list_all_stream_members', 'list_all_streams', 'list_all_streams_admin', 'list_room_members',
      'list_stream_members', 'list_streams', 'list_streams_admin', 'promote_user_to_room_owner', 'remove_member_from_room',
      'search_all_rooms', 'search_rooms', 'set_room_active', 'set_room_active_admin', 'share', 'update_im', 'update_room',
      'on_create_conversation', '_on_create', 'generate_participant_joined_system_message', 'join', 'save_message',
      'deliver_message_to_bot', 'deliver_status_to_bot', 'get_chat', '_get_bot', '_redirect_message', '_create_human_participant',
      'MAX_ATTACHMENT_SIZE', 'MAX_IMAGE_SIZE', 'MAX_VIDEO_SIZE', 'MAX_AUDIO_SIZE', 'MAX_VOICE_SIZE',
      'create_user', 'get_token', 'token_refresher', 'create_chat_thread', 'get_chat_thread_client', 'get_chat_thread', 'list_chat_threads',
      'delete_chat_thread', 'get_properties', 'update_topic', 'send_message', 'get_message', 'list_messages', 'update_message',
      'delete_message', 'list_participants', 'add_participant', 'add_participants', 'remove_participant', 'send_typing_notification',
      'send_read_receipt', 'list_read_receipts', 'close',
      'get_subscriptions', 'get_by_thread_id', 'get_by_title', 'create_chat', 'get_user', 'get_group',
    ];
    expect(expected.filter((name) => !names.includes(name))).toEqual([]);
  });

  it('every row has a call in backticks, points to the page that covers it, or says which issue builds it', () => {
    for (const row of ROWS) {
      if (/^planned — issue \d+$/.test(row.sdk)) {
        expect(row.rest, row.operation).toBe('—');
        continue;
      }
      // Another door into Parley (e.g. the Azure SDK itself over the ACS wire format), documented and tested there.
      if (!row.sdk.startsWith('`')) {
        expect(row.sdk, row.operation).toMatch(/\]\((?!http)[a-z-]+\.md\)/);
        const target = /\]\(([a-z-]+\.md)\)/.exec(row.sdk)![1]!;
        expect(existsSync(join(root, 'docs', target)), target).toBe(true);
        continue;
      }
      expect(row.sdk, row.operation).toMatch(/^`.+`$/);
    }
    expect(ROWS.filter((r) => r.sdk.startsWith('`')).length).toBeGreaterThan(70);
  });
});

describe(`${impl!.name}: every example in docs/coming-from.md runs against a real server`, () => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let helperBot: string;
  let routes: Set<string>;
  beforeAll(async () => {
    t = await startTestServer(impl!);
    [alice, bob, carol, dave] = await Promise.all([t.user(), t.user(), t.user(), t.user()]);
    helperBot = (await t.admin.createUser({ kind: 'bot', handle: `helper${Date.now().toString(36)}` })).user.id;
    const spec = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = new Set(Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)));
  });
  afterAll(() => t.close());

  /** The names every example may use (see the table at the top of the page), fresh for each row. */
  async function scope(): Promise<Record<string, unknown>> {
    const client = t.client({ token: alice.token });
    const { conversation } = await client.createRoom({
      title: 'Design',
      members: [{ userId: bob.user.id, role: 'owner' }, carol.user.id, helperBot],
    });
    const conv = client.conversation(conversation.id);
    const message = await conv.sendMessage('first');
    const direct = await client.createDirectConversation(bob.user.id);
    const publicRoom = await bob.client.createRoom({ title: 'Open house', public: true });
    const { group } = await client.createGroup({ name: 'Design circle', visibility: 'public', members: [bob.user.id, carol.user.id] });
    return {
      client,
      admin: t.admin,
      baseUrl: t.url,
      token: alice.token,
      userId: alice.user.id,
      roomId: conversation.id,
      conv,
      bob: bob.user.id,
      carol: carol.user.id,
      dave: dave.user.id,
      helperBot,
      directId: direct.conversation.id,
      publicRoomId: publicRoom.conversation.id,
      messageId: message.id,
      groupId: group.id,
      show: (...values: unknown[]) => values,
      ParleyClient,
      StaticTokenCredential,
      RefreshingTokenCredential,
      ApiKeyCredential,
    };
  }

  for (const row of ROWS.filter((r) => r.sdk.startsWith('`'))) {
    it(`${row.section}: ${row.operation}`, async () => {
      for (const route of row.rest.match(/(GET|POST|PATCH|DELETE) \/[^\s,`]+/g) ?? []) expect(routes, route).toContain(route);
      if (row.rest !== '—') expect(row.rest).toMatch(/(GET|POST|PATCH|DELETE) \//);
      await runExample(row.sdk.slice(1, -1), await scope());
    });
  }
});
