import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MetadataSchema } from '@parley/protocol';

// The Azure Communication Services wire contract (chat api-version 2025-03-15, identity 2023-10-01) as
// the official SDKs speak it. A foreign contract, so it lives here rather than in @parley/protocol.
// Request objects tolerate unknown fields: newer SDKs may send more, and ACS itself ignores them.

const DateTime = Type.String({ format: 'date-time' });
const Str = Type.String();

/** Every identity on the chat wire. Parley issues and accepts `communicationUser` ids only. */
export const AcsIdentifierSchema = Type.Object(
  {
    rawId: Type.Optional(Str),
    kind: Type.Optional(Str),
    communicationUser: Type.Optional(Type.Object({ id: Str })),
    phoneNumber: Type.Optional(Type.Object({ value: Str })),
    microsoftTeamsUser: Type.Optional(Type.Object({ userId: Str })),
    microsoftTeamsApp: Type.Optional(Type.Object({ appId: Str })),
  },
  { title: 'AcsCommunicationIdentifier' },
);
export type AcsIdentifierInput = Static<typeof AcsIdentifierSchema>;

const IdentifierOut = Type.Object({
  rawId: Str,
  kind: Type.Literal('communicationUser'),
  communicationUser: Type.Object({ id: Str }),
});

export const AcsErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Str,
      message: Str,
      target: Type.Optional(Str),
      details: Type.Optional(Type.Array(Type.Object({ code: Str, message: Str, target: Type.Optional(Str) }))),
      innererror: Type.Optional(Type.Object({ code: Str })),
    }),
  },
  { title: 'AcsError' },
);
export type AcsErrorBody = Static<typeof AcsErrorSchema>;

export const AcsRetentionPolicySchema = Type.Union(
  [
    Type.Object({ kind: Type.Literal('threadCreationDate'), deleteThreadAfterDays: Type.Integer({ minimum: 1, maximum: 90 }) }),
    Type.Object({ kind: Type.Literal('none') }),
  ],
  { title: 'AcsChatRetentionPolicy' },
);

export const AcsParticipantSchema = Type.Object(
  {
    communicationIdentifier: AcsIdentifierSchema,
    displayName: Type.Optional(Type.String({ maxLength: 256 })),
    shareHistoryTime: Type.Optional(DateTime),
    metadata: Type.Optional(MetadataSchema),
  },
  { title: 'AcsChatParticipant' },
);
export type AcsParticipantInput = Static<typeof AcsParticipantSchema>;

const ParticipantOut = Type.Object({
  communicationIdentifier: IdentifierOut,
  displayName: Type.Optional(Str),
  shareHistoryTime: Type.Optional(DateTime),
});

export const AcsCreateThreadRequestSchema = Type.Object(
  {
    topic: Str,
    participants: Type.Optional(Type.Array(AcsParticipantSchema)),
    metadata: Type.Optional(MetadataSchema),
    retentionPolicy: Type.Optional(AcsRetentionPolicySchema),
  },
  { title: 'AcsCreateChatThreadRequest' },
);

export const AcsUpdateThreadRequestSchema = Type.Object(
  {
    topic: Type.Optional(Str),
    metadata: Type.Optional(MetadataSchema),
    retentionPolicy: Type.Optional(Type.Union([AcsRetentionPolicySchema, Type.Null()])),
  },
  { title: 'AcsUpdateChatThreadRequest' },
);

export const AcsThreadPropertiesSchema = Type.Object(
  {
    id: Str,
    topic: Str,
    createdOn: DateTime,
    createdByCommunicationIdentifier: IdentifierOut,
    deletedOn: Type.Optional(DateTime),
    metadata: Type.Optional(Type.Record(Str, Str)),
    retentionPolicy: Type.Optional(AcsRetentionPolicySchema),
  },
  { title: 'AcsChatThreadProperties' },
);

const InvalidParticipants = Type.Optional(Type.Array(AcsErrorSchema.properties.error));

export const AcsCreateThreadResultSchema = Type.Object(
  { chatThread: AcsThreadPropertiesSchema, invalidParticipants: InvalidParticipants },
  { title: 'AcsCreateChatThreadResult' },
);

export const AcsThreadItemSchema = Type.Object(
  { id: Str, topic: Str, deletedOn: Type.Optional(DateTime), lastMessageReceivedOn: Type.Optional(DateTime) },
  { title: 'AcsChatThreadItem' },
);

export const AcsSendMessageRequestSchema = Type.Object(
  {
    content: Str,
    senderDisplayName: Type.Optional(Str),
    type: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('html')])),
    metadata: Type.Optional(MetadataSchema),
  },
  { title: 'AcsSendChatMessageRequest' },
);

export const AcsUpdateMessageRequestSchema = Type.Object(
  { content: Type.Optional(Str), metadata: Type.Optional(MetadataSchema) },
  { title: 'AcsUpdateChatMessageRequest' },
);

export const AcsMessageSchema = Type.Object(
  {
    id: Str,
    type: Str,
    sequenceId: Str,
    version: Str,
    content: Type.Optional(
      Type.Object({
        message: Type.Optional(Str),
        topic: Type.Optional(Str),
        participants: Type.Optional(Type.Array(ParticipantOut)),
        initiatorCommunicationIdentifier: Type.Optional(IdentifierOut),
      }),
    ),
    senderDisplayName: Type.Optional(Str),
    createdOn: DateTime,
    senderCommunicationIdentifier: Type.Optional(IdentifierOut),
    deletedOn: Type.Optional(DateTime),
    editedOn: Type.Optional(DateTime),
    metadata: Type.Optional(Type.Record(Str, Str)),
  },
  { title: 'AcsChatMessage' },
);
export type AcsMessage = Static<typeof AcsMessageSchema>;

export const AcsAddParticipantsRequestSchema = Type.Object(
  { participants: Type.Array(AcsParticipantSchema) },
  { title: 'AcsAddChatParticipantsRequest' },
);

export const AcsReadReceiptSchema = Type.Object(
  { senderCommunicationIdentifier: IdentifierOut, chatMessageId: Str, readOn: DateTime },
  { title: 'AcsChatMessageReadReceipt' },
);

/** An ACS list page: `nextLink` is self-contained and absent on the last page. */
export function acsPageSchema<T extends TSchema>(item: T, title: string) {
  return Type.Object({ value: Type.Array(item), nextLink: Type.Optional(Str) }, { title });
}

export const AcsThreadPageSchema = acsPageSchema(AcsThreadItemSchema, 'AcsChatThreadsItemCollection');
export const AcsMessagePageSchema = acsPageSchema(AcsMessageSchema, 'AcsChatMessagesCollection');
export const AcsParticipantPageSchema = acsPageSchema(ParticipantOut, 'AcsChatParticipantsCollection');
export const AcsReadReceiptPageSchema = acsPageSchema(AcsReadReceiptSchema, 'AcsChatMessageReadReceiptsCollection');

const ApiVersion = { 'api-version': Type.Optional(Type.String({ description: 'Any value is accepted' })) };
const MaxPageSize = Type.Optional(Type.Integer({ minimum: 1 }));
/** Parley's continuation cursor, carried inside `nextLink`. */
const Cursor = Type.Optional(Type.String({ minLength: 1, maxLength: 500 }));

export const AcsVersionQuerySchema = Type.Object(ApiVersion);
export const AcsTimeListQuerySchema = Type.Object({ ...ApiVersion, maxPageSize: MaxPageSize, startTime: Type.Optional(DateTime), cursor: Cursor });
export const AcsSkipListQuerySchema = Type.Object({
  ...ApiVersion,
  maxPageSize: MaxPageSize,
  skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  cursor: Cursor,
});

export const AcsThreadParamsSchema = Type.Object({ chatThreadId: Type.String({ minLength: 1 }) });
export const AcsMessageParamsSchema = Type.Object({ chatThreadId: Type.String({ minLength: 1 }), chatMessageId: Type.String({ minLength: 1 }) });
export const AcsIdentityParamsSchema = Type.Object({ id: Type.String({ minLength: 1 }) });

export const AcsTypingRequestSchema = Type.Object({ senderDisplayName: Type.Optional(Str) }, { title: 'AcsSendTypingNotificationRequest' });
export const AcsReadReceiptRequestSchema = Type.Object({ chatMessageId: Type.String({ minLength: 1 }) }, { title: 'AcsSendReadReceiptRequest' });
export const AcsSendMessageResultSchema = Type.Object({ id: Str }, { title: 'AcsSendChatMessageResult' });
export const AcsAddParticipantsResultSchema = Type.Object({ invalidParticipants: InvalidParticipants }, { title: 'AcsAddChatParticipantsResult' });

/** Scopes the ACS identity API knows. Parley grants chat; see the identity routes for the others. */
export const ACS_TOKEN_SCOPES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'] as const;
const Scopes = Type.Array(Type.Union(ACS_TOKEN_SCOPES.map((s) => Type.Literal(s))), { minItems: 1 });
const ExpiresInMinutes = Type.Optional(Type.Integer({ minimum: 60, maximum: 1440, description: 'Token lifetime: 60 to 1440 minutes (default 1440)' }));

export const AcsCreateIdentityRequestSchema = Type.Object(
  { createTokenWithScopes: Type.Optional(Scopes), expiresInMinutes: ExpiresInMinutes },
  { title: 'AcsCommunicationIdentityCreateRequest' },
);
export const AcsIssueTokenRequestSchema = Type.Object(
  { scopes: Scopes, expiresInMinutes: ExpiresInMinutes },
  { title: 'AcsCommunicationIdentityAccessTokenRequest' },
);
export const AcsTeamsExchangeRequestSchema = Type.Object({ token: Str, appId: Str, userId: Str }, { title: 'AcsTeamsUserExchangeTokenRequest' });

export const AcsAccessTokenSchema = Type.Object({ token: Str, expiresOn: DateTime }, { title: 'AcsCommunicationIdentityAccessToken' });
export const AcsIdentityResultSchema = Type.Object(
  { identity: Type.Object({ id: Str }), accessToken: Type.Optional(AcsAccessTokenSchema) },
  { title: 'AcsCommunicationIdentityAccessTokenResult' },
);
