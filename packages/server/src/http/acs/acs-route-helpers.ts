import { Type } from '@sinclair/typebox';
import type { ConversationId } from '../../domain/index.js';
import { conversationIdOf } from './acs-ids.js';
import { AcsErrorSchema } from './acs-schemas.js';

/** The OpenAPI tag of every ACS route. */
export const tags = ['acs'];
/** Route config of the chat routes: bearer-token authentication (see acs-routes.ts). */
export const chatRoute = { acs: 'chat' } as const;

/** The conversation a `chatThreadId` path parameter names. */
export const threadParam = (p: { chatThreadId: string }): ConversationId => conversationIdOf(p.chatThreadId);

export const NoContent = Type.Null({ description: 'No content' });

/** Error responses for the OpenAPI document, in the ACS error shape; 400 and 401 always apply. */
export function acsErrorResponses(...statuses: number[]): Record<number, typeof AcsErrorSchema> {
  return Object.fromEntries([400, 401, ...statuses].map((s) => [s, AcsErrorSchema]));
}
