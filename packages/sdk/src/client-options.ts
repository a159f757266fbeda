import type {
  AdminConversationSort,
  AuditTargetType,
  ConversationKind,
  DeliveryStatus,
  GroupVisibility,
  MessageSearchSort,
  RoomSearchSort,
  UpdateUserRequest,
} from '@parley/protocol';
import type { OperationOptions } from './http-pipeline.js';
import type { PagingOptions } from './paging.js';

// The options of ParleyClient's operations on groups, bot webhooks, search and the admin listings
// (the older areas keep theirs next to the client).

/** What a user may change of its own account with {@link ParleyClient.updateMe}. */
export type UpdateMeRequest = Pick<UpdateUserRequest, 'displayName' | 'description' | 'commands'>;

/** Options of calls an admin may make on conversations it is not a member (or owner) of. */
export interface AdminOperationOptions extends OperationOptions {
  /**
   * Act with the credential's admin right (`/v1/admin/…`, audited) rather than as a member: an admin
   * then needs no membership or ownership. Needs an admin credential.
   */
  asAdmin?: boolean;
}

/** Options of {@link ParleyClient.listGroups}. */
export interface ListGroupsOptions extends OperationOptions, PagingOptions {
  /** Only public groups (circles) or only private ones (personal lists). */
  visibility?: GroupVisibility;
  /** Only groups the caller owns or belongs to. */
  mine?: boolean;
  /** Only the group with exactly this name. */
  name?: string;
  /** Skip this many before the first page. */
  skip?: number;
}

/** Options of {@link ParleyClient.listGroupMembers}. */
export interface ListGroupMembersOptions extends OperationOptions, PagingOptions {
  /** Skip this many before the first page. */
  skip?: number;
}

/** Options of {@link ParleyClient.listWebhookDeliveries} and {@link ParleyClient.listAllWebhookDeliveries}. */
export interface ListWebhookDeliveriesOptions extends OperationOptions, PagingOptions {
  /** Only `pending`, `delivered` or `dead` (dead-lettered) deliveries. */
  status?: DeliveryStatus;
}

/** Options of {@link ParleyClient.searchRooms}. Every filter given must hold. */
export interface SearchRoomsOptions extends OperationOptions, PagingOptions {
  /**
   * Words in the title, description or keywords (`deploy` finds "deployment"; `"a phrase"`; `-word`
   * excludes). Without it, every room the filters allow, most recently active first.
   */
  query?: string;
  /** Only public (true) or private (false) rooms. */
  public?: boolean;
  /** Only active (true) or deactivated (false) rooms. */
  active?: boolean;
  /** Only rooms this user created (`me` for the caller). */
  creator?: string;
  /** Only rooms this user owns (`me` for the caller). */
  owner?: string;
  /** Only rooms this user is in (`me` for the caller). */
  member?: string;
  /** Only rooms having every one of these keywords. */
  labels?: readonly string[];
  /** Only rooms created at or after this time. */
  createdSince?: Date | string;
  /** Only rooms created before this time. */
  createdUntil?: Date | string;
  /** `relevance` (default with a query), `activity` (default without) or `created` (newest first). */
  sort?: RoomSearchSort;
  /** Skip this many before the first page. */
  skip?: number;
}

/** Options of {@link ParleyClient.searchMessages}. */
export interface SearchMessagesOptions extends OperationOptions, PagingOptions {
  /** Only this conversation. */
  conversationId?: string;
  /** Only messages from this user (`me` for the caller). */
  senderId?: string;
  /** Only messages sent at or after this time. */
  since?: Date | string;
  /** Only messages sent before this time. */
  until?: Date | string;
  /** `relevance` (default), `newest` or `oldest`. */
  sort?: MessageSearchSort;
  /** Skip this many before the first page. */
  skip?: number;
}

/** Options of {@link ParleyClient.listAllConversations}. Every filter given must hold. */
export interface ListAllConversationsOptions extends OperationOptions, PagingOptions {
  /** Only this kind, or these kinds. */
  kind?: ConversationKind | readonly ConversationKind[];
  /** Only active (true) or deactivated (false) conversations. */
  active?: boolean;
  /** Only conversations this user created. */
  creator?: string;
  /** Only conversations created at or after this time. */
  createdSince?: Date | string;
  /** Only conversations created before this time. */
  createdUntil?: Date | string;
  /** Only conversations changed at or after this time. */
  updatedSince?: Date | string;
  /** Only conversations changed before this time. */
  updatedUntil?: Date | string;
  /** Only conversations with at least this many members. */
  minMembers?: number;
  /** Only conversations with at most this many members. */
  maxMembers?: number;
  /** By creation time (the default), last update, last activity or member count. */
  sort?: AdminConversationSort;
  /** `asc` (the default) or `desc`. */
  order?: 'asc' | 'desc';
  /** Skip this many before the first page. */
  skip?: number;
}

/** Options of {@link ParleyClient.listAuditLog}. Every filter given must hold. */
export interface ListAuditLogOptions extends OperationOptions, PagingOptions {
  /** Only actions by this user. */
  actorId?: string;
  /** One action (`user.created`) or a family of them (`user.*`). */
  action?: string;
  /** Only actions on this kind of target. */
  targetType?: AuditTargetType;
  /** Only actions on this user, key, conversation or message. */
  targetId?: string;
  /** Only actions at or after this time. */
  since?: Date | string;
  /** Only actions before this time. */
  until?: Date | string;
  /** Skip this many before the first page. */
  skip?: number;
}
