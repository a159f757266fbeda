import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS: under ESM interop its plugin may arrive as the default or wrapped in it.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as FormatsPlugin;

const COMMON: Options = {
  // Unknown body fields are an error, not silently dropped: a typo must not pass unnoticed.
  removeAdditional: false,
  useDefaults: true,
  allErrors: false,
  strict: false,
};

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ ...COMMON, ...options });
  addFormats(ajv);
  return ajv;
}

/**
 * Two validators: query strings and path parameters are text, so their numbers and booleans are
 * coerced; JSON bodies are typed already, so `"content": 123` is an error rather than "123".
 */
export function createValidatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const body = makeAjv({ coerceTypes: false });
  const text = makeAjv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}
