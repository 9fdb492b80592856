// Daily use in a real terminal (the built CLI in tmux): a resize redraws cleanly and the
// status bar takes one row when narrow, Ctrl+X Ctrl+E composes in $EDITOR, /copy reaches
// tmux's paste buffer through OSC 52.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sanitizeForTerminal } from '../../../src/text/terminalText.js';
import { tinyModelDir } from '../../helpers/fixtures.js';
import { tempParleyEnv, type TempParleyEnv } from '../../helpers/parleyEnv.js';
import { cliCommand, hasTmux, TmuxPane } from '../../helpers/tmuxPane.js';
import { waitUntil } from '../../helpers/waitFor.js';

let home: TempParleyEnv;
let modelDir: string;
let pane: TmuxPane | null = null;

before(async () => {
  if (!hasTmux) return;
  modelDir = await tinyModelDir();
  home = await tempParleyEnv('daily');
});

after(async () => {
  if (!hasTmux) return;
  pane?.close();
  await home.remove();
});

/** The rows of the screen below the input box. */
const belowBox = (screen: string): string[] => {
  const lines = screen.split('\n');
  return lines.slice(lines.findLastIndex((l) => l.includes('╰')) + 1).filter((l) => l.trim() !== '');
};

test('in tmux: resize, the editor, /copy', { skip: hasTmux ? false : 'tmux is not installed' }, async () => {
  // A fake editor: appends a line to the file it is given, as a person typing would.
  const editor = path.join(home.root, 'fake-editor.sh');
  writeFileSync(editor, '#!/bin/sh\nprintf "%s written in the editor\\n" "$(cat "$1")" > "$1"\n');
  chmodSync(editor, 0o755);
  const env = { ...home.env, EDITOR: editor, NO_COLOR: '1' };
  const command = cliCommand(env, ['--model', modelDir, '--offline', '--max-tokens', '8', '--session', 'daily']);
  pane = new TmuxPane({ columns: 100, rows: 30 });
  pane.setOption('set-clipboard', 'on');
  pane.typeLine(command);
  await pane.waitFor(/random weights: output is noise/);

  // Narrowed to 50×15: one input box (no pieces of the old one), the status bar on one row.
  pane.resize(50, 15);
  const narrow = await waitUntil(
    () => pane!.screen(),
    (s) => belowBox(s).length === 1 && s.split('\n').every((l) => [...l].length <= 50),
    10_000,
    'the redraw at 50 columns',
    100,
  );
  assert.equal(narrow.split('\n').filter((l) => l.includes('╭')).length, 1, narrow);
  assert.equal(narrow.split('\n').filter((l) => l.includes('╰')).length, 1, narrow);

  // Ctrl+X Ctrl+E: the draft goes to the editor and comes back.
  pane.typeText('a draft');
  pane.key('C-x');
  pane.key('C-e');
  await pane.waitFor(/› a draft written in the editor/);
  pane.key('Enter');
  // The reply under the message, then the input box free again.
  await pane.waitFor(/› a draft written in the editor\n {2}\S[\s\S]*Message, or/);

  pane.typeLine('/copy');
  await pane.waitFor(/Copied the last reply/);
  const reply = await waitUntil(
    () => pane!.pasteBuffer(),
    (b) => b.length > 0,
    5000,
    'the paste buffer',
  );
  // The reply as the session keeps it, made harmless. The autosave runs when the reply ends,
  // in the background: on a busy machine /copy can answer before it has written the file.
  const file = path.join(home.env.PARLEY_SESSIONS_DIR, 'daily.json');
  const savedReply = await waitUntil(
    () => {
      if (!existsSync(file)) return null;
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { turns: { role: string; text: string }[] };
      return saved.turns.findLast((t) => t.role === 'assistant')?.text ?? null;
    },
    (text) => text !== null,
    10_000,
    'the autosaved reply',
    50,
  );
  assert.equal(reply, sanitizeForTerminal(savedReply ?? ''));
  pane.typeLine('/exit');
});
