/** A command as written in a message: `/name@bot first "second arg" --flag --key=value`. */
export interface ParsedCommand {
  /** The command, with its slash and without any `@handle`, lower-cased: `/weather`. */
  name: string;
  /** The handle after `@`, when the command was addressed (`/help@weatherbot`). */
  addressedTo: string | undefined;
  /** Positional arguments, quotes removed. */
  args: string[];
  /** `--flag` (true) and `--key=value` / `--key value`-less options, by name. */
  flags: Record<string, string | true>;
  /** Everything after the command name, as written. */
  text: string;
}

const COMMAND = /^\/([a-z0-9][a-z0-9_-]{0,31})(?:@([A-Za-z0-9][A-Za-z0-9._-]{0,63}))?(?=\s|$)/i;

/**
 * Reads a command from message text, or returns undefined when the text is not one. Arguments split on
 * white space; single or double quotes group words, and a backslash escapes the next character.
 */
export function parseCommand(content: string): ParsedCommand | undefined {
  const trimmed = content.trim();
  const m = COMMAND.exec(trimmed);
  if (!m) return undefined;
  const text = trimmed.slice(m[0].length).trim();
  const args: string[] = [];
  const flags: Record<string, string | true> = {};
  for (const token of tokenize(text)) {
    const flag = /^--([A-Za-z0-9][A-Za-z0-9_-]*)(?:=(.*))?$/s.exec(token.value);
    if (flag && !token.quoted) flags[flag[1]!] = flag[2] ?? true;
    else args.push(token.value);
  }
  return { name: `/${m[1]!.toLowerCase()}`, addressedTo: m[2], args, flags, text };
}

function* tokenize(text: string): Generator<{ value: string; quoted: boolean }> {
  let current = '';
  let inToken = false;
  let quoted = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inToken = true;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      quoted = true;
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) yield { value: current, quoted };
      current = '';
      inToken = false;
      quoted = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  // An unclosed quote runs to the end of the text, as shells without an error would have it.
  if (inToken) yield { value: current, quoted };
}
