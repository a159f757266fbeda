import { Type, type Static } from '@sinclair/typebox';

/** The server's configured limits, as returned by `GET /v1/limits`. */
export const LimitsSchema = Type.Object(
  {
    maxBodyBytes: Type.Integer({ description: 'Largest request body accepted' }),
    maxMessageLength: Type.Integer({ description: 'Longest message content, in characters' }),
    maxMetadataEntries: Type.Integer({ description: 'Most metadata entries on one message or conversation' }),
    maxMetadataBytes: Type.Integer({ description: 'Largest metadata map, keys and values in UTF-8 bytes' }),
    maxTitleLength: Type.Integer(),
    maxDescriptionLength: Type.Integer(),
    maxKeywords: Type.Integer(),
    maxDisplayNameLength: Type.Integer(),
    maxMembersPerRequest: Type.Integer({ description: 'Most members added in one request' }),
    maxMembersPerConversation: Type.Integer(),
    defaultPageSize: Type.Integer(),
    maxPageSize: Type.Integer({ description: 'Largest page of messages, events or conversations' }),
    maxMembersPageSize: Type.Integer({ description: 'Largest page of members' }),
    maxConnectionsPerUser: Type.Integer({ description: 'Most realtime connections one user may hold (per server process)' }),
    messageRatePerSecond: Type.Integer({ description: 'Messages a user may send per second, sustained (token bucket)' }),
    messageBurst: Type.Integer({ description: 'Messages a user may send at once before the rate applies' }),
    typingIntervalMs: Type.Integer({ description: 'Shortest interval between two typing notifications of one member in one conversation' }),
    maxSignalBytes: Type.Integer({ description: 'Largest signal payload, as JSON' }),
    heartbeatSeconds: Type.Integer({ description: 'Interval of realtime heartbeats; a peer silent for two is dropped' }),
    maxSocketBufferBytes: Type.Integer({ description: 'Outgoing bytes a realtime connection may have pending before it is cut off as a slow consumer' }),
  },
  { title: 'Limits' },
);
export type Limits = Static<typeof LimitsSchema>;

/** The limits a server has unless configured otherwise. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxMessageLength: 28_000,
  maxMetadataEntries: 32,
  maxMetadataBytes: 8 * 1024,
  maxTitleLength: 256,
  maxDescriptionLength: 4096,
  maxKeywords: 32,
  maxDisplayNameLength: 256,
  maxMembersPerRequest: 250,
  maxMembersPerConversation: 10_000,
  defaultPageSize: 50,
  maxPageSize: 200,
  maxMembersPageSize: 1000,
  maxConnectionsPerUser: 20,
  messageRatePerSecond: 20,
  messageBurst: 60,
  typingIntervalMs: 8000,
  maxSignalBytes: 4096,
  heartbeatSeconds: 30,
  maxSocketBufferBytes: 4 * 1024 * 1024,
});
