// Replies as Markdown in the chat screen, with the scripted engine: an instruct model's reply
// is drawn as Markdown while it streams and after, a GPT-2-format model's stays plain text,
// /markdown switches and keeps the choice, /export keeps the raw text, and the model's
// escape sequences never reach the screen.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { OWN_SEQUENCE } from '../../src/markdown/markdownStyle.js';
import { openSettings } from '../../src/settings/settingsFile.js';
import { startChat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

const REPLY = [
  '## Steps',
  '',
  'Do **this** first, then `that`.',
  '',
  '- one',
  '- two',
  '',
  '```python',
  'print("hi")',
  '```',
  '',
  '| Fruit | Qty |',
  '|:------|----:|',
  '| apple | 3 |',
  '| fig | 12 |',
  '',
  'See [docs](https://example.com/d).',
].join('\n');

/** The reply's text in pieces of a few characters, as tokens arrive. */
const tokens = (text: string, size = 3): string[] =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, i * size + size));

const unstyled = (frame: string): string => frame.replace(OWN_SEQUENCE, '');

test('an instruct model’s reply streams and stays as Markdown: headings, emphasis, lists, code, tables, links', async () => {
  const chat = await startChat({ engine: { hasChatTemplate: true, scripts: [{ tokens: tokens(REPLY), delayMs: 2 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('how?');
  await waitUntil(
    () => unstyled(chat.frame()),
    (f) => f.includes('(https://example.com/d)'),
    5000,
    'the whole reply',
  );
  const frame = unstyled(chat.frame());
  assert.ok(frame.includes('  Steps\n'), 'the heading without its ##');
  assert.ok(frame.includes('  Do this first, then `that`.'), 'emphasis markers gone (NO_COLOR keeps the backticks)');
  assert.ok(frame.includes('  • one\n  • two'), 'a list');
  assert.ok(frame.includes('  python\n    print("hi")'), 'code under its language label');
  assert.ok(frame.includes('  Fruit │ Qty\n  ──────┼────\n  apple │   3\n  fig   │  12'), 'an aligned table');
  assert.ok(frame.includes('See docs (https://example.com/d).'), 'a link with its URL');
  assert.ok(!frame.includes('**') && !frame.includes('```') && !frame.includes('|'), 'no raw markup');
  assert.match(chat.frame(), /\u001b\[1mthis\u001b\[22m/, 'bold is bold');
  // The session keeps the raw text.
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    3000,
    'the reply stored',
  );
  assert.equal(chat.controller.session.conversation.turns[1]?.text, REPLY);
});

test('a GPT-2-format model’s reply stays plain text: its asterisks are its own', async () => {
  const chat = await startChat({ engine: { scripts: [{ tokens: ['a **b** c'] }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('hi');
  await chat.waitFor('a **b** c');
});

test('/markdown on for a GPT-2 model is kept in the settings file; /markdown alone says why; /export keeps the raw text', async () => {
  const chat = await startChat({ engine: { scripts: [{ tokens: ['# Title\n\n- x'] }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('/markdown');
  await chat.waitFor('Markdown replies are off (auto: the model writes plain text)');
  await chat.send('/markdown sometimes');
  await chat.waitFor('markdown must be on, off or auto');
  await chat.send('/markdown on');
  await chat.waitFor('Markdown replies are on, from the next reply on');
  assert.equal(openSettings({ env: chat.dirs.env }).stored().markdown, true);
  await chat.send('hi');
  await waitUntil(
    () => unstyled(chat.frame()),
    (f) => f.includes('  Title\n\n  • x'),
    3000,
    'the Markdown reply',
  );
  const target = path.join(chat.dirs.root, 'out.md');
  await chat.send(`/export ${target}`);
  await chat.waitFor('Exported the conversation');
  assert.match(readFileSync(target, 'utf8'), /# Title\n\n- x/);
});

test('/markdown off for an instruct model shows its reply as it was written', async () => {
  const chat = await startChat({ engine: { hasChatTemplate: true, scripts: [{ tokens: ['a **b** c'] }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('/markdown off');
  await chat.waitFor('Markdown replies are off, from the next reply on');
  await chat.send('hi');
  await chat.waitFor('a **b** c');
});

test('escape sequences from the model in a Markdown reply never reach the screen', async () => {
  const hostile =
    '# T\u001b]0;pwned\u0007itle\n\n```\n\u001b[2Jcode\u009b31m\n```\n\n| a | b |\n|---|---|\n| \u001b]8;;http://e.vil\u001b\\x | \u0085y |';
  const chat = await startChat({ engine: { hasChatTemplate: true, scripts: [{ tokens: tokens(hostile, 2), delayMs: 2 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('hi');
  await waitUntil(
    () => unstyled(chat.frame()),
    (f) => f.includes('x │ y'),
    5000,
    'the table',
  );
  const controls = [...unstyled(chat.frame())].filter((c) => /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(c));
  assert.deepEqual(controls, []);
  assert.ok(unstyled(chat.frame()).includes('Title'));
});

/** The directories of a finished chat whose one reply is a Markdown list item. */
async function chatWithListReply() {
  const first = await startChat({ engine: { hasChatTemplate: true, scripts: [{ tokens: ['- alpha beta gamma delta'] }] } });
  await first.waitFor('Model gpt2 ready');
  await first.send('hi');
  await waitUntil(
    () => first.controller.session.conversation.turns.length,
    (n) => n === 2,
    3000,
    'the reply stored',
  );
  await first.controller.exit();
  cleanup();
  return first.dirs;
}

test('a resumed conversation is drawn as Markdown too, at the screen’s width', async () => {
  const dirs = await chatWithListReply();
  const second = await startChat({ dirs, args: { resume: true }, flags: { model: 'gpt2', markdown: true } });
  await second.waitFor('resumed');
  await second.waitFor('• alpha beta gamma delta');
});

test('a resumed conversation with Markdown left to the model is printed again as Markdown once an instruct model loads', async () => {
  const dirs = await chatWithListReply();
  const second = await startChat({
    dirs,
    args: { resume: true },
    engine: { hasChatTemplate: true },
    plans: { gpt2: { delayMs: 150 } },
  });
  await second.waitFor('resumed');
  // Before the model is known the reply is plain text; once it loads the transcript is printed
  // again (after a clear of the terminal, which the test screen does not show), as Markdown.
  await second.waitFor('Model gpt2 ready');
  const frame = await second.waitFor('• alpha beta gamma delta');
  assert.ok(frame.lastIndexOf('• alpha beta gamma delta') > frame.lastIndexOf('- alpha beta gamma delta'), frame);
  assert.ok(frame.indexOf('Model gpt2 ready') > frame.lastIndexOf('• alpha beta gamma delta'), 'the notices follow the reprinted turns');
});
