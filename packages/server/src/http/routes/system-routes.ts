import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { LimitsSchema, type Limits } from '@parley/protocol';

export function systemRoutes(app: FastifyInstance, options: { limits: Limits; version: string }): void {
  app.get(
    '/health',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['system'],
        summary: 'Liveness',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }) },
      },
    },
    () => ({ status: 'ok' as const, version: options.version }),
  );
  app.get(
    '/v1/limits',
    {
      config: { auth: 'none' },
      schema: { tags: ['system'], summary: 'The server\'s limits: body size, message length, page sizes…', security: [], response: { 200: LimitsSchema } },
    },
    () => options.limits,
  );
}
