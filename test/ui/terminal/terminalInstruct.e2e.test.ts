// The instruct exports end to end in a real terminal: the built CLI in a tmux pane.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HF_QWEN2_TINY } from '../../helpers/fixtures.js';
import { makeVariant } from '../../helpers/fixtureVariants.js';
import { tempParleyEnv, type TempParleyEnv } from '../../helpers/parleyEnv.js';
import { cliCommand, hasTmux, TmuxPane } from '../../helpers/tmuxPane.js';
import { waitFor } from '../../helpers/waitFor.js';

let home: TempParleyEnv;
let pane: TmuxPane | null = null;
// Rotary models store no position table, so the same weights take a longer context: long
// enough that a reply is still streaming when Esc arrives, however fast the machine.
const model = makeVariant(HF_QWEN2_TINY, { json: { 'config.json': { max_position_embeddings: 4096 } } });

before(async () => {
  home = await tempParleyEnv('e2e');
});

after(async () => {
  pane?.close();
  model.remove();
  // Closing the terminal hangs up on Parley, which saves as it goes: remove() retries while it writes.
  await home.remove();
});

test(
  'hf-qwen2-tiny in a real terminal: a reply with no special tokens, /context, Esc, /exit saves',
  { skip: hasTmux ? false : 'tmux is not installed' },
  async () => {
    const env = home.env;
    const command = cliCommand(env, [
      '--model',
      model.dir,
      '--offline',
      '--temperature',
      '0',
      '--repeat-penalty',
      '1',
      '--max-tokens',
      '4000',
      '--system',
      'Answer in one word.',
      '--session',
      'qwen',
    ]);
    pane = new TmuxPane();
    pane.typeLine(command);
    await pane.waitFor(/ready \(fp32, 4096 tokens of context\)/);
    pane.typeLine('hello there');
    await pane.waitFor(/Firstly Firstly/);
    pane.key('Escape');
    await pane.waitFor(/\(interrupted\)/);
    assert.ok(!pane.screen().includes('<|im_'), 'no special token on screen');
    pane.typeLine('/context');
    await pane.waitFor(/<\|im_start\|>system/);
    pane.typeLine('/exit');
    const file = path.join(env.PARLEY_SESSIONS_DIR, 'qwen.json');
    await waitFor(() => existsSync(file), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the session saved on exit',
      detail: () => pane!.screen(),
    });
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { persona: string; turns: { role: string; text: string }[] };
    assert.equal(saved.persona, 'Answer in one word.');
    assert.deepEqual(
      saved.turns.map((t) => t.role),
      ['user', 'assistant'],
    );
    assert.match(saved.turns[1]!.text, /^Firstly( Firstly)*$/);
  },
);
