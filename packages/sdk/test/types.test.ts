import { describe, expectTypeOf, it } from 'vitest';
import {
  ParleyClient,
  type AdminConversation,
  type AuditEntry,
  type ConnectionStateChange,
  type ContinuablePage,
  type Conversation,
  type Group,
  type GroupMember,
  type Member,
  type MessageSearchHit,
  type Message,
  type PagedAsyncIterable,
  type ParleyEvent,
  type ReadReceipt,
  type RoomSearchHit,
  type TypingNotification,
  type WebhookDelivery,
} from '@parley/sdk';

// Compile-time checks of the public surface: `npm run typecheck` fails when they break.
describe('types', () => {
  const client = new ParleyClient({ baseUrl: 'http://127.0.0.1:1', token: 't' });

  it('on() types each handler by its event type and returns an unsubscribe', () => {
    const off = client.on('message.edited', (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'message.edited'>();
      expectTypeOf(event.data.message).toEqualTypeOf<Message>();
    });
    expectTypeOf(off).toEqualTypeOf<() => void>();
    client.on('member.removed', (event) => expectTypeOf(event.data.left).toEqualTypeOf<boolean>());
    client.on('typing', (n) => expectTypeOf(n).toEqualTypeOf<TypingNotification>());
    client.on('connection', (c) => expectTypeOf(c).toEqualTypeOf<ConnectionStateChange>());
    // @ts-expect-error: not an event type
    client.on('message.exploded', () => undefined);
    off();
  });

  it('lists are PagedAsyncIterables of the protocol types', () => {
    const conv = client.conversation('cnv_x');
    expectTypeOf(client.listConversations()).toEqualTypeOf<PagedAsyncIterable<Conversation>>();
    expectTypeOf(conv.listMessages()).toEqualTypeOf<PagedAsyncIterable<Message>>();
    expectTypeOf(conv.listMembers()).toEqualTypeOf<PagedAsyncIterable<Member>>();
    expectTypeOf(conv.listReadReceipts()).toEqualTypeOf<PagedAsyncIterable<ReadReceipt>>();
    expectTypeOf(conv.listEvents().byPage()).toEqualTypeOf<AsyncIterableIterator<ContinuablePage<ParleyEvent>>>();
    expectTypeOf(client.events()).toEqualTypeOf<AsyncIterableIterator<ParleyEvent>>();
  });

  it('the lists of groups, webhooks, search and admin are PagedAsyncIterables too', () => {
    expectTypeOf(client.listGroups()).toEqualTypeOf<PagedAsyncIterable<Group>>();
    expectTypeOf(client.listGroupMembers('grp_x')).toEqualTypeOf<PagedAsyncIterable<GroupMember>>();
    expectTypeOf(client.listWebhookDeliveries('me')).toEqualTypeOf<PagedAsyncIterable<WebhookDelivery>>();
    expectTypeOf(client.listAllWebhookDeliveries()).toEqualTypeOf<PagedAsyncIterable<WebhookDelivery>>();
    expectTypeOf(client.searchRooms()).toEqualTypeOf<PagedAsyncIterable<RoomSearchHit>>();
    expectTypeOf(client.searchMessages('q')).toEqualTypeOf<PagedAsyncIterable<MessageSearchHit>>();
    expectTypeOf(client.conversation('cnv_x').searchMessages('q')).toEqualTypeOf<PagedAsyncIterable<MessageSearchHit>>();
    expectTypeOf(client.listAllConversations()).toEqualTypeOf<PagedAsyncIterable<AdminConversation>>();
    expectTypeOf(client.listAuditLog()).toEqualTypeOf<PagedAsyncIterable<AuditEntry>>();
    // @ts-expect-error: the member list's admin variant is an option, not on read receipts
    client.conversation('cnv_x').listReadReceipts({ asAdmin: true });
    // @ts-expect-error: a share carries no attachments
    void client.conversation('cnv_x').sendShare({ title: 't', url: 'https://example.com' }, { attachments: ['att_x'] });
  });
});
