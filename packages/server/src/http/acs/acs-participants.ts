import { isParleyError, type MemberSpec } from '@parley/protocol';
import type { Actor, UserId } from '../../domain/index.js';
import type { Services } from '../../services/index.js';
import { acsCode } from './acs-errors.js';
import { rawIdOf, userIdOf } from './acs-ids.js';
import type { AcsErrorBody, AcsIdentifierInput, AcsParticipantInput } from './acs-schemas.js';

type AcsError = AcsErrorBody['error'];

/** The raw id an identifier names: the nested ACS user's id, else the raw id (what the SDK sends both as). */
export function rawIdFrom(identifier: AcsIdentifierInput): string {
  return identifier.communicationUser?.id ?? identifier.rawId ?? identifier.phoneNumber?.value ?? identifier.microsoftTeamsUser?.userId ?? '';
}

/** ACS participants as Parley member specs, and the ones that name no Parley user as ACS errors. */
export interface ParticipantSpecs {
  specs: Exclude<MemberSpec, string>[];
  invalid: AcsError[];
}

const invalidParticipant = (rawId: string, code: string, message: string): AcsError => ({ code, message, target: rawId });

export function participantSpecs(participants: readonly AcsParticipantInput[], role?: 'owner'): ParticipantSpecs {
  const specs: ParticipantSpecs['specs'] = [];
  const invalid: AcsError[] = [];
  for (const p of participants) {
    const raw = rawIdFrom(p.communicationIdentifier);
    const userId = userIdOf(raw);
    if (userId === undefined) {
      invalid.push(invalidParticipant(raw, 'BadRequest', 'Not a user of this Parley server (only 8:acs: ids it issued are)'));
      continue;
    }
    specs.push({
      userId,
      ...(role ? { role } : {}),
      ...(p.shareHistoryTime !== undefined ? { historyFrom: p.shareHistoryTime } : {}),
      // An empty name is no name, in ACS as here.
      ...(p.displayName ? { displayName: p.displayName } : {}),
    });
  }
  return { specs, invalid };
}

/**
 * Drops the specs of users who cannot join a conversation (unknown, disabled, the system account), as
 * ACS reports those per participant where creating a Parley conversation would refuse the whole request.
 */
export async function keepJoinable(services: Services, actor: Actor, given: ParticipantSpecs): Promise<ParticipantSpecs> {
  const specs: ParticipantSpecs['specs'] = [];
  const invalid = [...given.invalid];
  for (const spec of given.specs) {
    try {
      const user = await services.identity.getUser(actor, spec.userId as UserId);
      if (user.disabled || user.kind === 'system') {
        invalid.push(invalidParticipant(rawIdOf(spec.userId), 'Forbidden', user.disabled ? 'The user is disabled' : 'The system account cannot be a participant'));
      } else specs.push(spec);
    } catch (err) {
      if (!isParleyError(err) || err.code !== 'not_found') throw err;
      invalid.push(invalidParticipant(rawIdOf(spec.userId), 'NotFound', 'No such user'));
    }
  }
  return { specs, invalid };
}

/** Per-participant failures of a member add, as ACS `invalidParticipants`. */
export function failuresAsInvalid(failures: readonly { userId: string; error: { code: string; message: string } }[]): AcsError[] {
  return failures.map((f) => invalidParticipant(rawIdOf(f.userId), acsCode(f.error.code), f.error.message));
}
