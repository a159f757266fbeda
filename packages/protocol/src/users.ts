import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageQuerySchema, PageSchema, TimestampSchema, StringEnum } from './common.js';

/** Kinds of account. `system` is the internal sender of system messages and cannot be created. */
export const USER_KINDS = ['human', 'bot', 'system'] as const;
export type UserKind = (typeof USER_KINDS)[number];

/** Access scopes a token may carry. `chat` is everyday use; `admin` is the admin API. */
export const SCOPES = ['chat', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const HandleSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'Unique, case-insensitive; letters, digits, `.`, `_` and `-`',
});
export const PasswordSchema = Type.String({ minLength: 8, maxLength: 1024 });
export const DisplayNameSchema = Type.String({ minLength: 1, maxLength: 256 });

/** A command a bot offers, as shown in its help and in clients' command pickers. */
export const BotCommandSchema = Type.Object(
  {
    command: Type.String({ pattern: '^/[a-z0-9][a-z0-9_-]{0,31}$', description: 'Starts with `/`, e.g. `/weather`' }),
    description: Type.String({ maxLength: 256 }),
    usage: Type.Optional(Type.String({ maxLength: 256, description: 'Arguments, e.g. `<city> [days]`' })),
  },
  { additionalProperties: false, title: 'BotCommand' },
);
export type BotCommand = Static<typeof BotCommandSchema>;
const BotCommands = Type.Array(BotCommandSchema, { maxItems: 100, description: 'Bots only: the commands it offers' });

/** A user account, human or bot. */
export const UserSchema = Type.Object(
  {
    id: IdSchema,
    kind: StringEnum(USER_KINDS),
    handle: Type.String(),
    displayName: Type.String(),
    description: Type.String(),
    admin: Type.Boolean(),
    disabled: Type.Boolean(),
    commands: BotCommands,
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { title: 'User' },
);
export type User = Static<typeof UserSchema>;

export const CreateUserRequestSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('human'), Type.Literal('bot')]),
    handle: HandleSchema,
    displayName: Type.Optional(DisplayNameSchema),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    admin: Type.Optional(Type.Boolean()),
    password: Type.Optional(PasswordSchema),
    commands: Type.Optional(BotCommands),
  },
  { additionalProperties: false, title: 'CreateUserRequest' },
);
export type CreateUserRequest = Static<typeof CreateUserRequestSchema>;

export const CreateUserResultSchema = Type.Object(
  {
    user: UserSchema,
    apiKey: Type.Optional(Type.String({ description: 'A bot\'s first API key; shown once, stored hashed' })),
  },
  { title: 'CreateUserResult' },
);
export type CreateUserResult = Static<typeof CreateUserResultSchema>;

export const UpdateUserRequestSchema = Type.Object(
  {
    displayName: Type.Optional(DisplayNameSchema),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    admin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean({ description: 'A disabled user cannot sign in; its tokens and keys stop working' })),
    password: Type.Optional(PasswordSchema),
    commands: Type.Optional(BotCommands),
  },
  {
    additionalProperties: false,
    title: 'UpdateUserRequest',
    description: 'Admins change anything; a user may change its own display name and description, and a bot its commands',
  },
);
export type UpdateUserRequest = Static<typeof UpdateUserRequestSchema>;

export const ListUsersQuerySchema = Type.Composite([
  PageQuerySchema,
  Type.Object({
    kind: Type.Optional(Type.Union([Type.Literal('human'), Type.Literal('bot')])),
    handle: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Exact handle' })),
    disabled: Type.Optional(Type.Boolean()),
  }),
]);
export type ListUsersQuery = Static<typeof ListUsersQuerySchema>;
export const UserPageSchema = PageSchema(UserSchema, 'UserPage');

export const UserParamsSchema = Type.Object({ userId: IdSchema });

/** The caller: its account and the scopes of the credential it used. */
export const MeSchema = Type.Object(
  {
    user: UserSchema,
    scopes: Type.Array(StringEnum(SCOPES)),
    credential: Type.Union([Type.Literal('token'), Type.Literal('apiKey')]),
  },
  { title: 'Me' },
);
export type Me = Static<typeof MeSchema>;

const ScopesSchema = Type.Array(StringEnum(SCOPES), { minItems: 1, uniqueItems: true });

export const IssueTokenRequestSchema = Type.Object(
  {
    scopes: Type.Optional(ScopesSchema),
    expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 60 * 60 * 24 * 365 })),
  },
  { additionalProperties: false, title: 'IssueTokenRequest' },
);
export type IssueTokenRequest = Static<typeof IssueTokenRequestSchema>;

export const LoginRequestSchema = Type.Object(
  {
    handle: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    scopes: Type.Optional(ScopesSchema),
    expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 60 * 60 * 24 * 30 })),
  },
  { additionalProperties: false, title: 'LoginRequest' },
);
export type LoginRequest = Static<typeof LoginRequestSchema>;

/** A signed access token (JWT) for `Authorization: Bearer`. */
export const TokenResultSchema = Type.Object(
  {
    token: Type.String(),
    tokenType: Type.Literal('Bearer'),
    userId: IdSchema,
    scopes: Type.Array(StringEnum(SCOPES)),
    expiresAt: TimestampSchema,
  },
  { title: 'TokenResult' },
);
export type TokenResult = Static<typeof TokenResultSchema>;

/** An API key's record; the secret itself is shown only once, when made. */
export const ApiKeySchema = Type.Object(
  {
    id: IdSchema,
    userId: IdSchema,
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
    createdAt: TimestampSchema,
    lastUsedAt: Type.Union([TimestampSchema, Type.Null()]),
  },
  { title: 'ApiKey' },
);
export type ApiKey = Static<typeof ApiKeySchema>;

export const CreateApiKeyRequestSchema = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false, title: 'CreateApiKeyRequest' },
);
export type CreateApiKeyRequest = Static<typeof CreateApiKeyRequestSchema>;

export const CreateApiKeyResultSchema = Type.Object(
  { apiKey: ApiKeySchema, key: Type.String({ description: 'The secret; shown once' }) },
  { title: 'CreateApiKeyResult' },
);
export type CreateApiKeyResult = Static<typeof CreateApiKeyResultSchema>;
export const ApiKeyListSchema = Type.Object({ items: Type.Array(ApiKeySchema) }, { title: 'ApiKeyList' });

export const ApiKeyParamsSchema = Type.Object({ userId: IdSchema, keyId: IdSchema });
