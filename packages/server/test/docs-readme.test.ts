import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS } from '@parley/server';

const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../README.md'), 'utf8');

describe('README', () => {
  it('opens with the two commands', () => {
    const quickStart = readme.slice(0, readme.indexOf('## What is here'));
    for (const command of ['npm install', 'npm start', 'npm test']) expect(quickStart).toContain(command);
  });

  it('lists every setting in its configuration table, with its flag', () => {
    const missing = CONFIG_FIELDS.filter((f) => !readme.includes(`| \`${f.env}\` | \`${f.flag}\` |`)).map((f) => f.env);
    expect(missing).toEqual([]);
  });
});
