// A Markdown reply in a real terminal: the built CLI in a tmux pane, talking to a stub
// OpenAI-compatible server whose reply is Markdown with hostile escape sequences in it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStub, type Stub } from '../../helpers/chatServerStub.js';
import { tempParleyEnv, type TempParleyEnv } from '../../helpers/parleyEnv.js';
import { cliCommand, hasTmux, TmuxPane } from '../../helpers/tmuxPane.js';

const REPLY = [
  '## Two ways',
  '',
  'Use **either** the `loop` or the *map*, see [docs](https://example.com/map).',
  '',
  '1. Loop over the items and push each result into a new array as you go',
  '2. Map them',
  '',
  '```js',
  'const out = items.map((x) => x * 2); // \u001b]0;pwned\u0007doubled',
  '```',
  '',
  '| Way | Lines |',
  '|:----|------:|',
  '| loop | 4 |',
  '| map | 1 |',
].join('\n');

/** The reply as a server streams it: a few characters per chunk. */
const chunks = Array.from({ length: Math.ceil(REPLY.length / 4) }, (_, i) => REPLY.slice(i * 4, i * 4 + 4));

let home: TempParleyEnv;
let stub: Stub;
let pane: TmuxPane | null = null;

before(async () => {
  if (!hasTmux) return;
  home = await tempParleyEnv('markdown-e2e');
  stub = await startStub('vllm', 4096, false, chunks);
});

after(async () => {
  if (!hasTmux) return;
  pane?.close();
  await stub?.app.close();
  await home.remove();
});

test(
  'a Markdown reply in a real terminal: styled, aligned, wrapped with hanging indents, no sequence from the model',
  { skip: hasTmux ? false : 'tmux is not installed' },
  async () => {
    pane = new TmuxPane({ columns: 60, rows: 40, name: 'markdown' });
    pane.typeLine(cliCommand(home.env, ['--endpoint', stub.url, '--model', 'stub-instruct', '--session', 'md']));
    await pane.waitFor(/ready/);
    pane.typeLine('loop or map?');
    const screen = await pane.waitFor(/map\s+│\s+1/);
    console.log(`--- the screen, 60 columns ---\n${screen}`);
    const lines = screen.split('\n');
    const at = (text: string): number => lines.findIndex((line) => line.includes(text));
    assert.ok(at('  Two ways') >= 0 && at('## Two ways') < 0, 'the heading without its ##');
    assert.ok(at('Use either the `loop`') >= 0 || at('Use either the loop') >= 0, 'emphasis markers gone');
    assert.ok(at('(https://example.com/map)') >= 0 && !screen.includes('[docs]'), 'the link with its URL');
    const item = at('1. Loop over the items');
    assert.ok(item >= 0 && /^ {5}\S/.test(lines[item + 1]!), `a hanging indent under the item: ${JSON.stringify(lines[item + 1])}`);
    assert.ok(at('  js') >= 0 && at('const out = items.map') >= 0, 'code under its language label');
    assert.ok(!screen.includes('pwned') || !screen.includes(']0;'), 'the OSC title sequence is gone');
    assert.match(screen, /Way\s+│\s+Lines\n\s+─+┼─+\n\s+loop\s+│\s+4\n\s+map\s+│\s+1/, 'an aligned table');
    pane.typeLine('/markdown off');
    await pane.waitFor(/Markdown replies are off/);
    pane.typeLine('again?');
    const raw = await pane.waitFor(/\| map \| 1 \|/);
    console.log(`--- the same reply with /markdown off ---\n${raw}`);
    pane.typeLine('/exit');
  },
);
