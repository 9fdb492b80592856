import path from 'node:path';
import { sessionToMarkdown } from '../session/exportMarkdown.js';
import type { SessionStore } from '../session/sessionStore.js';
import type { Settings } from '../session/settingsSchema.js';
import { writeFileAtomic } from '../session/atomicWrite.js';

/** `parley --list-sessions`: one line per session, newest first; broken files say why. */
export async function listSessions(store: SessionStore, out: NodeJS.WritableStream): Promise<number> {
  const entries = await store.list();
  if (entries.length === 0) {
    out.write(`no saved sessions in ${store.dir}\n`);
    return 0;
  }
  out.write(`sessions in ${store.dir}:\n`);
  for (const e of entries) {
    if (e.ok) {
      const when = e.updatedAt.replace('T', ' ').slice(0, 16);
      out.write(`  ${e.name.padEnd(24)} ${when}  ${String(e.turns).padStart(4)} turns  ${e.model ?? ''}\n`);
    } else {
      out.write(`  ${e.name.padEnd(24)} unreadable: ${e.error}\n`);
    }
  }
  return 0;
}

/** `parley --export NAME [--out FILE]`: Markdown to the file (atomically) or to stdout. */
export async function exportSession(
  store: SessionStore,
  name: string,
  outFile: string | undefined,
  names: Pick<Settings, 'userName' | 'assistantName'>,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  const session = await store.load(name);
  const markdown = sessionToMarkdown(session, { user: names.userName, assistant: names.assistantName });
  if (outFile === undefined) {
    stdout.write(markdown);
    return 0;
  }
  const target = path.resolve(outFile);
  await writeFileAtomic(target, markdown);
  stderr.write(`exported "${name}" to ${target}\n`);
  return 0;
}
