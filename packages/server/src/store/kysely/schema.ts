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
}

export interface MembersTable {
  conversation_id: string;
  user_id: string;
  role: string;
  history_from: number | null;
  joined_at: number;
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

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  conversations: ConversationsTable;
  members: MembersTable;
  messages: MessagesTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
}
