/**
 * @packageDocumentation
 * The Parley client for browsers and Node >= 20: every REST operation with retries and paging, and a
 * realtime stream with automatic reconnect and gap-free resume. Types come from `@parley/protocol`.
 *
 * @example
 * ```ts
 * import { ParleyClient } from '@parley/sdk';
 * await using client = new ParleyClient({ baseUrl: 'http://127.0.0.1:8080', token });
 * ```
 */
export { ParleyClient } from './parley-client.js';
export type {
  ParleyClientOptions,
  CreateConversationOptions,
  CreateRoomRequest,
  CreateChatOptions,
  ListConversationsOptions,
  ListUsersOptions,
  CreateTokenOptions,
  CreateApiKeyOptions,
  ConnectOptions,
} from './parley-client.js';
export type {
  UpdateMeRequest,
  AdminOperationOptions,
  ListGroupsOptions,
  ListGroupMembersOptions,
  ListWebhookDeliveriesOptions,
  SearchRoomsOptions,
  SearchMessagesOptions,
  ListAllConversationsOptions,
  ListAuditLogOptions,
} from './client-options.js';
export { ConversationClient } from './conversation-client.js';
export type {
  ListMembersOptions,
  ListReadReceiptsOptions,
  SendMessageOptions,
  SendShareOptions,
  ListMessagesOptions,
  ListEventsOptions,
  SendReadReceiptOptions,
  AddMembersOptions,
  AttachmentData,
  UploadAttachmentOptions,
  DownloadAttachmentOptions,
  AttachmentDownload,
} from './conversation-client.js';
export { LiveConversation, type LiveConversationOptions } from './live-conversation.js';
export { ParleyApiError, isParleyApiError, type ParleyApiErrorCode, type ParleyApiErrorInit } from './parley-api-error.js';
export { pagedIterable, type PagedAsyncIterable, type PageSettings, type ContinuablePage, type GetPage, type PagingOptions } from './paging.js';
export { DEFAULT_RETRY_OPTIONS, type RetryOptions } from './retry-policy.js';
export type { OperationOptions } from './http-pipeline.js';
export {
  StaticTokenCredential,
  RefreshingTokenCredential,
  type AccessToken,
  type GetTokenOptions,
  type TokenCredential,
  type RefreshingTokenCredentialOptions,
} from './token-credential.js';
export { ApiKeyCredential, type ApiKeyCredentialOptions } from './api-key-credential.js';
export type { ClientEvents, EventStreamOptions } from './event-hub.js';
export type {
  ConnectionState,
  ConnectionStateChange,
  TypingNotification,
  RealtimeOptions,
  ReconnectOptions,
} from './realtime-session.js';
export type * from '@parley/protocol';
