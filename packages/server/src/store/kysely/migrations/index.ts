import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';
import * as m002 from './002-read-positions.js';
import * as m003 from './003-event-authors.js';

/** Every migration, in order. Bundled in code so a built server needs no migration files on disk. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve<Record<string, Migration>>({ '001-initial': m001, '002-read-positions': m002, '003-event-authors': m003 }),
};
