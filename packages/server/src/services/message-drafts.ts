import type { Limits, SendMessageRequest } from '@parley/protocol';
import {
  badRequest,
  checkLength,
  checkMessageContent,
  checkMetadata,
  limitExceeded,
  type Actor,
  type AttachmentId,
  type MessageRecord,
  type UserId,
} from '../domain/index.js';
import { sanitizeMessageHtml } from './html-sanitizer.js';

export type MessageDraft = Omit<
  MessageRecord,
  'id' | 'conversationId' | 'seq' | 'createdAt' | 'version' | 'editedAt' | 'deletedAt' | 'attachments' | 'mentions'
> & {
  /** Pending uploads to send with the message; resolved and bound inside the send's transaction. */
  attachmentIds: AttachmentId[];
};

/**
 * Validates and normalises a message to send: limits, HTML sanitising, share rendering.
 * `target` prefixes field names in errors (e.g. `message.` inside a create-conversation request).
 */
export function draftMessage(limits: Limits, actor: Actor, req: SendMessageRequest, target = ''): MessageDraft {
  checkMetadata(limits, req.metadata, `${target}metadata`);
  checkLength(limits.maxDisplayNameLength, req.senderDisplayName, `${target}senderDisplayName`);
  const common = {
    senderId: actor.id,
    senderDisplayName: req.senderDisplayName ?? actor.displayName,
    metadata: req.metadata ?? {},
    system: null,
    visibleTo: (req.visibleTo ?? null) as UserId | null,
    attachmentIds: [] as AttachmentId[],
  };
  if (req.type !== 'share' && req.attachments !== undefined) {
    if (req.attachments.length > limits.maxAttachmentsPerMessage) {
      throw limitExceeded(`A message carries at most ${limits.maxAttachmentsPerMessage} attachments`, `${target}attachments`);
    }
    common.attachmentIds = req.attachments as AttachmentId[];
  }
  switch (req.type) {
    case 'share': {
      const s = req.share;
      const content = req.content ?? [s.title, s.summary, s.url].filter(Boolean).join('\n');
      checkMessageContent(limits, content, `${target}content`);
      return { ...common, type: 'share', content, share: s };
    }
    case 'html': {
      checkMessageContent(limits, req.content, `${target}content`);
      const content = sanitizeMessageHtml(req.content);
      if (content.trim() === '') throw badRequest('The HTML has no content left after sanitising', `${target}content`);
      return { ...common, type: 'html', content, share: null };
    }
    default: {
      // Attachments alone make a message; otherwise it needs text.
      if (req.content === undefined && common.attachmentIds.length === 0) {
        throw badRequest('A text message needs content, attachments or both', `${target}content`);
      }
      const content = req.content ?? '';
      if (req.content !== undefined) checkMessageContent(limits, content, `${target}content`);
      return { ...common, type: 'text', content, share: null };
    }
  }
}
