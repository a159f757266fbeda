// Table shapes as Kysely sees them. Booleans are 0/1 integers and times epoch-ms integers in both
// databases, so one implementation reads and writes both without per-dialect conversions.

export interface UsersTable {
  id: string;
  kind: string;
  handle: string;
  display_name: string;
  description: string;
  admin: number;
  disabled: number;
  password_hash: string | null;
  commands: string;
  token_version: number;
  created_at: number;
  updated_at: number;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface ConversationsTable {
  id: string;
  kind: string;
  title: string | null;
  description: string;
  keywords: string;
  public: number;
  discoverable: number;
  read_only: number;
  members_can_invite: number;
  history_visible: number;
  pinned_message_id: string | null;
  active: number;
  metadata: string;
  created_by: string;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
  last_seq: number;
  last_message_seq: number;
  member_count: number;
  dedupe_key: string | null;
  deleted_at: number | null;
  /** The retention policy as JSON; null when none was set. */
  retention_policy: string | null;
  /** Days after creation the conversation is deleted (from the policy), so the sweep is one indexed query. */
  retention_days: number | null;
}

export interface MembersTable {
  conversation_id: string;
  user_id: string;
  role: string;
  history_from: number | null;
  joined_at: number;
  nickname: string | null;
  last_read_seq: number;
  last_read_message_id: string | null;
  last_read_at: number | null;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: number;
  type: string;
  content: string;
  sender_id: string;
  sender_display_name: string;
  metadata: string;
  share: string | null;
  system: string | null;
  visible_to: string | null;
  /** JSON array of attachment snapshots. */
  attachments: string;
  /** JSON array of mentions. */
  mentions: string;
  version: number;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

export interface EventsTable {
  id: string;
  conversation_id: string;
  seq: number;
  type: string;
  actor_id: string | null;
  created_at: number;
  data: string;
  message_id: string | null;
  visible_to: string | null;
  author_id: string | null;
  history_at: number;
}

export interface IdempotencyKeysTable {
  user_id: string;
  scope: string;
  key: string;
  request_hash: string;
  result_id: string;
  created_at: number;
}

export interface AttachmentsTable {
  id: string;
  conversation_id: string;
  uploader_id: string;
  message_id: string | null;
  name: string;
  mime_type: string;
  category: string;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  thumbnail: string | null;
  created_at: number;
  deleted_at: number | null;
}

export interface UserGroupsTable {
  id: string;
  name: string;
  description: string;
  visibility: string;
  owner_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface UserGroupMembersTable {
  group_id: string;
  user_id: string;
  added_at: number;
}

/** Room search tokens (see domain/search-text); SQLite adds an FTS rowid, PostgreSQL a generated tsvector. */
export interface RoomSearchTable {
  conversation_id: string;
  title: string;
  description: string;
  keywords: string;
  labels: string;
}

/** Message search tokens; only live, non-system messages with searchable text have a row. */
export interface MessageSearchTable {
  message_id: string;
  tokens: string;
}

/** SQLite only: how far the search index has caught up with the messages (migration 011). */
export interface SearchBacklogTable {
  id: number;
  indexed_rowid: number;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_id: string;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  /** JSON object. */
  details: string;
}

export interface WebhooksTable {
  user_id: string;
  url: string;
  secret: string;
  events: string | null;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookCursorsTable {
  user_id: string;
  conversation_id: string;
  last_seq: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  user_id: string;
  conversation_id: string;
  event_id: string;
  event_type: string;
  seq: number;
  body: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  conversations: ConversationsTable;
  members: MembersTable;
  messages: MessagesTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
  room_search: RoomSearchTable;
  message_search: MessageSearchTable;
  search_backlog: SearchBacklogTable;
  audit_log: AuditLogTable;
  user_groups: UserGroupsTable;
  user_group_members: UserGroupMembersTable;
  webhooks: WebhooksTable;
  webhook_cursors: WebhookCursorsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  attachments: AttachmentsTable;
}
