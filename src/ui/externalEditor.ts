// Composing a message in the user's editor ($EDITOR, then $VISUAL, then vi): the text goes
// to a temporary file, the editor gets the terminal, and what it saved comes back. The
// editor runs synchronously: while it has the terminal nothing else may read the keyboard
// or draw (the engine, in its worker thread, goes on).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type EditorResult = { kind: 'edited'; text: string } | { kind: 'failed'; message: string };

/** The editor command line, as the environment names it. */
export function editorCommand(env: Readonly<Record<string, string | undefined>>): string {
  return env['EDITOR']?.trim() || env['VISUAL']?.trim() || 'vi';
}

/**
 * Runs the editor on `text` and returns what it saved, without the one newline editors add
 * at the end. `releaseTerminal` gives the terminal up (raw mode off) and returns a function
 * that takes it back.
 */
export function editInEditor(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  releaseTerminal: () => () => void,
): EditorResult {
  const command = editorCommand(env);
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-message-'));
  const file = path.join(dir, 'message.md');
  try {
    writeFileSync(file, text, { mode: 0o600 });
    const takeBack = releaseTerminal();
    let status: number | null;
    let error: Error | undefined;
    try {
      // Through the shell, as git runs it: $EDITOR may carry arguments ("code --wait").
      const run =
        process.platform === 'win32'
          ? spawnSync(`${command} "${file}"`, { stdio: 'inherit', shell: true })
          : spawnSync('/bin/sh', ['-c', `${command} "$1"`, 'sh', file], { stdio: 'inherit' });
      status = run.status;
      error = run.error;
    } finally {
      takeBack();
    }
    if (error) return { kind: 'failed', message: `Cannot run the editor "${command}": ${error.message}` };
    if (status !== 0)
      return { kind: 'failed', message: `The editor "${command}" exited with status ${status ?? 'unknown'}; the message is unchanged.` };
    return { kind: 'edited', text: readFileSync(file, 'utf8').replace(/\r?\n$/, '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
