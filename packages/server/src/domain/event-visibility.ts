import type { EventRecord, Visibility } from './model.js';

/**
 * Does a member see this event? Events meant for one member (a `visibleTo` message, a signal) are seen by
 * that member, whoever caused the event and the author of the message it is about; every event only from
 * the member's share-history time on. The store applies the same rule in SQL (`EventStore.listAfter`).
 */
export function canSeeEvent(viewer: Visibility, event: Pick<EventRecord, 'visibleTo' | 'actorId' | 'authorId' | 'historyAt'>): boolean {
  const { userId } = viewer;
  if (event.visibleTo !== null && event.visibleTo !== userId && event.actorId !== userId && event.authorId !== userId) return false;
  return viewer.historyFrom === null || event.historyAt >= viewer.historyFrom;
}
