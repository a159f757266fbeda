import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AttachmentParamsSchema,
  AttachmentSchema,
  ConversationParamsSchema,
  ParleyError,
  UploadAttachmentQuerySchema,
} from '@parley/protocol';
import type { AttachmentId, ConversationId } from '../../domain/index.js';
import type { AttachmentDownload, Services } from '../../services/index.js';
import { parseRange } from '../byte-range.js';
import { sendError } from '../error-handler.js';
import { errorResponses } from '../route-helpers.js';
import { createValidatorCompiler } from '../validator-compiler.js';

const tags = ['attachments'];
const NoContent = Type.Null({ description: 'No content' });
const Bytes = Type.String({ format: 'binary', description: 'The file' });
const DOWNLOAD_HEADERS = Type.Object({
  range: Type.Optional(Type.String({ description: '`bytes=<first>-<last>`, `bytes=<first>-` or `bytes=-<suffix length>`' })),
  'if-range': Type.Optional(Type.String({ description: 'Honour `Range` only while the ETag still matches' })),
  'if-none-match': Type.Optional(Type.String({ description: 'An ETag you have: 304 when it still matches' })),
});

/** `inline` or `attachment`, with the file name both as ASCII and (RFC 6266 / 8187) as UTF-8. */
function contentDisposition(inline: boolean, name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

const etagMatches = (header: string | undefined, etag: string): boolean =>
  header !== undefined && (header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag));

/** Streams a download: whole (200), one range (206), unchanged (304) or a range past the end (416). */
async function serve(request: FastifyRequest, reply: FastifyReply, file: AttachmentDownload): Promise<FastifyReply> {
  void reply.header('ETag', file.etag).header('Accept-Ranges', 'bytes');
  if (etagMatches(request.headers['if-none-match'], file.etag)) return reply.status(304).send();
  const ifRange = request.headers['if-range'];
  const range = ifRange === undefined || ifRange === file.etag ? parseRange(request.headers.range, file.size) : undefined;
  if (range === 'unsatisfiable') {
    void reply.header('Content-Range', `bytes */${file.size}`);
    return sendError(reply, new ParleyError('range_not_satisfiable', `The file has ${file.size} bytes; the range asks for none of them`, 'range'));
  }
  // Uploaded bytes are untrusted: never sniffed, never scripted, and anything but passive media is a
  // download rather than a page in our origin.
  void reply
    .header('Content-Type', file.mimeType === 'text/plain' ? 'text/plain; charset=utf-8' : file.mimeType)
    .header('Content-Disposition', contentDisposition(file.inline, file.name))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', "default-src 'none'; sandbox")
    .header('Cache-Control', 'private, max-age=31536000, immutable')
    .header('Last-Modified', new Date(file.createdAt).toUTCString());
  if (range) {
    void reply.status(206).header('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
  }
  void reply.header('Content-Length', String(range ? range.end - range.start + 1 : file.size));
  // HEAD: Fastify keeps the Content-Length set here only for a stream body; an empty one opens no file.
  if (request.method === 'HEAD') return reply.send(Readable.from([]));
  return reply.send(await file.read(range));
}

export function attachmentRoutes(parent: FastifyInstance, services: Services): void {
  const { attachments } = services;
  const cid = (p: { conversationId: string }) => p.conversationId as ConversationId;
  const aid = (p: { attachmentId: string }) => p.attachmentId as AttachmentId;

  // The upload lives in its own scope: there, no parser reads the body (whatever its Content-Type),
  // and the handler streams the raw request into the blob store itself.
  void parent.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const validators = createValidatorCompiler();
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/v1/conversations/:conversationId/attachments',
      {
        // The body schema documents the upload; the bytes are checked by the service, not a validator.
        validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : validators(route)),
        schema: {
          tags,
          summary: 'Upload a file to a conversation (members who may post); send it with a message to share it',
          description:
            'The body is the file, streamed (any `Content-Type`; the server detects the type from the bytes). ' +
            'The limit of the detected category (`GET /v1/limits`) applies; a larger body is refused with 413 before it is read. ' +
            'The upload stays pending, visible to you only, until you send it in a message (`attachments: [id]`); ' +
            'unsent uploads are removed after `PARLEY_ATTACHMENT_TTL_SECONDS`.',
          consumes: ['application/octet-stream'],
          params: ConversationParamsSchema,
          querystring: UploadAttachmentQuerySchema,
          body: Bytes,
          response: { 201: AttachmentSchema, ...errorResponses('forbidden', 'not_found', 'conflict', 'limit_exceeded') },
        },
      },
      async (request, reply) => {
        const length = request.headers['content-length'];
        try {
          const attachment = await attachments.upload(
            request.auth.actor,
            cid(request.params),
            {
              ...(request.query.name !== undefined ? { name: request.query.name } : {}),
              ...(request.query.voice !== undefined ? { voice: request.query.voice } : {}),
              ...(length !== undefined && /^\d+$/.test(length) ? { declaredSize: Number(length) } : {}),
            },
            // Not destroyed when the service stops reading early: the refusal must still reach the client.
            request.raw.iterator({ destroyOnReturn: false }),
          );
          return await reply.status(201).send(attachment);
        } catch (err) {
          // Refused before the end of the body: answer, then close rather than read the rest.
          if (!request.raw.complete) void reply.header('Connection', 'close');
          if (request.raw.errored) throw new ParleyError('bad_request', 'The upload was interrupted', 'body');
          throw err;
        }
      },
    );
  });

  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/conversations/:conversationId/attachments/:attachmentId',
    {
      schema: {
        tags,
        summary: 'Describe an attachment (yours while pending; once sent, anyone who sees its message)',
        params: AttachmentParamsSchema,
        response: { 200: AttachmentSchema, ...errorResponses('forbidden', 'not_found') },
      },
    },
    (request) => attachments.get(request.auth.actor, cid(request.params), aid(request.params)),
  );
  const downloads = {
    content: {
      summary: 'Download an attachment; supports Range (206/416) and If-None-Match (304)',
      description:
        'Served with its detected `Content-Type`, `X-Content-Type-Options: nosniff` and an ETag (its SHA-256). Only images, ' +
        'audio and video are `Content-Disposition: inline`; anything else (HTML, SVG, XML, scripts, text…) is a download.',
    },
    thumbnail: {
      summary: 'Download the thumbnail of an image attachment (WebP, at most 320×320)',
      description: 'Authorised, cached and ranged like the file itself.',
    },
  } as const;
  for (const [variant, doc] of Object.entries(downloads) as [keyof typeof downloads, (typeof downloads)[keyof typeof downloads]][]) {
    app.get(
      `/v1/conversations/:conversationId/attachments/:attachmentId/${variant}`,
      {
        schema: {
          tags,
          ...doc,
          params: AttachmentParamsSchema,
          headers: DOWNLOAD_HEADERS,
          response: { 200: Bytes, 206: Bytes, ...errorResponses('forbidden', 'not_found', 'range_not_satisfiable') },
        },
      },
      async (request, reply) =>
        serve(request, reply, await attachments.download(request.auth.actor, cid(request.params), aid(request.params), variant)),
    );
  }
  app.delete(
    '/v1/conversations/:conversationId/attachments/:attachmentId',
    {
      schema: {
        tags,
        summary: 'Delete a pending upload (its uploader); a sent attachment goes when its message is deleted',
        params: AttachmentParamsSchema,
        response: { 204: NoContent, ...errorResponses('forbidden', 'not_found', 'conflict') },
      },
    },
    async (request, reply) => {
      await attachments.deletePending(request.auth.actor, cid(request.params), aid(request.params));
      return reply.status(204).send(null);
    },
  );
}
