import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, StringEnum, TimestampSchema } from './common.js';

/**
 * What kind of file an attachment is, decided by the server from the bytes (never from the client's
 * `Content-Type`). Each category has its own size limit in `GET /v1/limits`:
 * `attachment` (any other file), `image`, `video`, `audio`, and `voice` (audio the client uploaded
 * as a voice note with `voice=true`).
 */
export const ATTACHMENT_CATEGORIES = ['attachment', 'image', 'video', 'audio', 'voice'] as const;
/** One of {@link ATTACHMENT_CATEGORIES}. */
export type AttachmentCategory = (typeof ATTACHMENT_CATEGORIES)[number];

/** The preview the server makes of an image: a WebP no larger than 320×320, downloadable at `url`. */
export const ThumbnailSchema = Type.Object(
  {
    url: Type.String({ description: 'Path of the thumbnail on this server (same authorisation as the file)' }),
    mimeType: Type.String(),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
  },
  { title: 'Thumbnail' },
);
export type Thumbnail = Static<typeof ThumbnailSchema>;

/**
 * An uploaded file. It belongs to the conversation it was uploaded to and is pending (`messageId`
 * null) until its uploader sends it with a message; pending uploads are removed after a while.
 */
export const AttachmentSchema = Type.Object(
  {
    id: IdSchema,
    conversationId: IdSchema,
    uploaderId: IdSchema,
    messageId: Type.Union([IdSchema, Type.Null()], { description: 'The message carrying it; null while pending' }),
    name: Type.String({ description: 'File name for display and download' }),
    mimeType: Type.String({ description: 'The type detected from the bytes' }),
    category: StringEnum(ATTACHMENT_CATEGORIES),
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
    sha256: Type.String({ description: 'Hex SHA-256 of the bytes (also the download ETag)' }),
    width: Type.Union([Type.Integer(), Type.Null()], { description: 'Images: pixel width as displayed' }),
    height: Type.Union([Type.Integer(), Type.Null()], { description: 'Images: pixel height as displayed' }),
    thumbnail: Type.Union([ThumbnailSchema, Type.Null()]),
    url: Type.String({ description: 'Path of the bytes on this server' }),
    createdAt: TimestampSchema,
  },
  { title: 'Attachment' },
);
export type Attachment = Static<typeof AttachmentSchema>;

/** Query of an upload: the body is the file's bytes, streamed. */
export const UploadAttachmentQuerySchema = Type.Object({
  name: Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'File name; defaults to `file` with the detected extension' }),
  ),
  voice: Type.Optional(
    Type.Boolean({ description: 'A voice note: the bytes must be audio; checked against the voice limit' }),
  ),
});
export type UploadAttachmentQuery = Static<typeof UploadAttachmentQuerySchema>;

/** Path parameters naming an attachment. */
export const AttachmentParamsSchema = Type.Object({ conversationId: IdSchema, attachmentId: IdSchema });
export type AttachmentParams = Static<typeof AttachmentParamsSchema>;
