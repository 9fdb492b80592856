import path from 'node:path';
import { sessionToMarkdown } from '../session/exportMarkdown.js';
import type { SessionStore } from '../session/sessionStore.js';
import type { Settings } from '../settings/settingsSchema.js';
import { writeFileAtomic } from '../session/atomicWrite.js';
import { cleanText, outputModeFor } from '../text/terminalText.js';
import { counted } from '../text/format.js';

type Output = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * `parley --list-sessions`: one line per session, newest first; broken files say why.
 * Names, model refs and errors come from files anyone could have written: cleaned.
 */
export async function listSessions(store: SessionStore, out: Output, raw = false): Promise<number> {
  const mode = outputModeFor(out, raw);
  const write = (line: string): void => void out.write(cleanText(line, mode) + '\n');
  const entries = await store.list();
  if (entries.length === 0) {
    write(`no saved sessions in ${store.dir}`);
    return 0;
  }
  write(`sessions in ${store.dir}:`);
  for (const e of entries) {
    if (e.ok) {
      const when = e.updatedAt.replace('T', ' ').slice(0, 16);
      write(`  ${e.name.padEnd(24)} ${when}  ${counted(e.turns, 'turn').padStart(9)}  ${e.model ?? ''}`);
    } else {
      write(`  ${e.name.padEnd(24)} unreadable: ${e.error}`);
    }
  }
  return 0;
}

/**
 * `parley --export NAME [--out FILE]`: Markdown to the file (atomically, 0600) or to stdout,
 * cleaned for where it goes (a file like a pipe) unless `raw`.
 */
export async function exportSession(
  store: SessionStore,
  name: string,
  outFile: string | undefined,
  names: Pick<Settings, 'userName' | 'assistantName'>,
  stdout: Output,
  stderr: Output,
  raw = false,
): Promise<number> {
  const session = await store.load(name);
  const markdown = sessionToMarkdown(session, { user: names.userName, assistant: names.assistantName });
  if (outFile === undefined) {
    stdout.write(cleanText(markdown, outputModeFor(stdout, raw)));
    return 0;
  }
  const target = path.resolve(outFile);
  await writeFileAtomic(target, cleanText(markdown, raw ? 'raw' : 'text'));
  stderr.write(cleanText(`exported "${name}" to ${target}\n`, outputModeFor(stderr, false)));
  return 0;
}
