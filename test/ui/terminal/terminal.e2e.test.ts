// End to end in a real terminal: the built CLI in a tmux pane, typed into like a person would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tinyModelDir } from '../../helpers/fixtures.js';
import { tempParleyEnv, type TempParleyEnv } from '../../helpers/parleyEnv.js';
import { cliCommand, hasTmux, TmuxPane } from '../../helpers/tmuxPane.js';
import { waitFor } from '../../helpers/waitFor.js';

let home: TempParleyEnv;
let modelDir: string;
let pane: TmuxPane | null = null;

before(async () => {
  if (!hasTmux) return;
  modelDir = await tinyModelDir();
  home = await tempParleyEnv('e2e');
});

after(async () => {
  if (!hasTmux) return;
  pane?.close();
  // Closing the terminal hangs up on Parley, which saves as it goes: remove() retries while it writes.
  await home.remove();
});

test(
  'parley in a real terminal: a reply, /temp in the status bar, /exit saves',
  { skip: hasTmux ? false : 'tmux is not installed' },
  async () => {
    const env = home.env;
    const command = cliCommand(env, ['--model', modelDir, '--offline', '--max-tokens', '12', '--session', 'e2e']);
    pane = new TmuxPane({ columns: 100, rows: 40 });
    pane.typeLine(command);
    await pane.waitFor(/random weights: output is noise/);
    pane.typeLine('hello there');
    await pane.waitFor(/\d+\.\d tok\/s/);
    pane.typeLine('/temp 0.3');
    await pane.waitFor(/temp 0\.3 top-k/);
    pane.typeLine('/exit');
    const file = path.join(env.PARLEY_SESSIONS_DIR, 'e2e.json');
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('"temperature": 0.3'), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the session saved on exit',
      detail: () => pane!.screen(),
    });
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { turns: { role: string; text: string }[] };
    assert.deepEqual(
      saved.turns.map((t) => t.role),
      ['user', 'assistant'],
    );
    assert.equal(saved.turns[0]?.text, 'hello there');
  },
);
