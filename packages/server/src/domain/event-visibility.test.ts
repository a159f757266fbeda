import { describe, expect, it } from 'vitest';
import { canSeeEvent } from './event-visibility.js';
import type { UserId } from './ids.js';

const ME = 'usr_me' as UserId;
const OTHER = 'usr_other' as UserId;
const THIRD = 'usr_third' as UserId;
const USERS = [ME, OTHER, THIRD, null] as const;

describe('canSeeEvent', () => {
  it('matches the rule over every combination of addressee, actor, author and history time', () => {
    for (const visibleTo of USERS)
      for (const actorId of USERS)
        for (const authorId of USERS)
          for (const historyFrom of [null, 100, 200])
            for (const historyAt of [150, 200, 250]) {
              const addressedToOther = visibleTo !== null && visibleTo !== ME && actorId !== ME && authorId !== ME;
              const beforeHistory = historyFrom !== null && historyAt < historyFrom;
              const want = !addressedToOther && !beforeHistory;
              const got = canSeeEvent({ userId: ME, historyFrom }, { visibleTo, actorId, authorId, historyAt });
              expect(got, JSON.stringify({ visibleTo, actorId, authorId, historyFrom, historyAt })).toBe(want);
            }
  });
});
