import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';
import * as m002 from './002-read-positions.js';
import * as m003 from './003-event-authors.js';
import * as m004 from './004-search-and-audit.js';
import * as m005 from './005-attachments.js';
import * as m006 from './006-acs-threads.js';
import * as m007 from './007-groups.js';
import * as m008 from './008-webhooks.js';
import * as m009 from './009-bot-commands.js';
import * as m010 from './010-mentions.js';
import * as m011 from './011-search-backlog.js';
import * as m012 from './012-message-fts-in-bulk.js';

/** Every migration, in order. Bundled in code so a built server needs no migration files on disk. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve<Record<string, Migration>>({ '001-initial': m001, '002-read-positions': m002, '003-event-authors': m003, '004-search-and-audit': m004, '005-attachments': m005, '006-acs-threads': m006, '007-groups': m007, '008-webhooks': m008, '009-bot-commands': m009, '010-mentions': m010, '011-search-backlog': m011, '012-message-fts-in-bulk': m012 }),
};
