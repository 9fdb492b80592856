// The screen at 40, 60, 80 and 120 columns: /help in two columns with hanging indents (one
// column when narrow), the status bar on one row below 80 columns, wrapped reply rows at
// the reply's indent, and the transcript laid out again after a resize.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from 'ink-testing-library';
import { layoutDefinitions } from '../../src/chat/view/definitionLayout.js';
import { fitStatus, statusRows } from '../../src/ui/statusFit.js';
import { statusSegments } from '../../src/ui/StatusBar.js';
import { startChat, type Chat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';
import type { StatusInfo } from '../../src/chat/view/statusInfo.js';

afterEach(() => cleanup());

const WIDTHS = [40, 60, 80, 120];

/** The frame from the last line holding `marker` on: older output (printed at another width) is cut off. */
function after(chat: Chat, marker: string): string[] {
  const lines = chat.frame().split('\n');
  const at = lines.findLastIndex((line) => line.includes(marker));
  assert.ok(at >= 0, `${marker} on screen`);
  return lines.slice(at);
}

async function chatAt(columns: number, tokens: string[] = [' ok']): Promise<Chat> {
  const chat = await startChat({ engine: { fallback: { tokens } } });
  await chat.waitFor('Model gpt2 ready');
  const epoch = chat.controller.getState().transcriptEpoch;
  chat.resize(columns);
  await waitUntil(
    () => chat.controller.getState().transcriptEpoch,
    (e) => e > epoch,
    3000,
    'the redraw after the resize',
  );
  return chat;
}

/** The rows below the input box's bottom border: the status bar (and Tab candidates, none here). */
function statusBarRows(chat: Chat): string[] {
  const lines = chat.frame().split('\n');
  const bottom = lines.findLastIndex((line) => line.includes('╰'));
  return lines.slice(bottom + 1).filter((line) => line.trim() !== '');
}

for (const columns of WIDTHS) {
  test(`/help at ${columns} columns: every row fits, descriptions never wrap back to column 0`, async () => {
    const chat = await chatAt(columns);
    await chat.send('/help');
    await chat.waitFor('Ctrl+L');
    const help = after(chat, '› /help').slice(1);
    const end = help.findIndex((line) => line.includes('clear the screen'));
    const block = help.slice(0, end + 1).filter((line) => line.trim() !== '');
    for (const line of block) assert.ok(line.length <= columns, `fits ${columns}: ${JSON.stringify(line)}`);
    // A row starts with a command, a key, the keys' title, or the indent of a description.
    const starts = /^(\/|Keys:|Enter|Alt\+Enter|↑|Tab|Esc|Ctrl|\s)/;
    for (const line of block) assert.match(line, starts, `no description at column 0: ${JSON.stringify(line)}`);
    const temp = block.findIndex((line) => line.startsWith('/temp'));
    if (columns >= 60) {
      // Two columns: the description starts on the command's row, its next rows under it.
      assert.match(block[temp]!, /^\/temp <0–2> \[--global\] +set the temperature/);
      const indent = block[temp]!.indexOf('set the temperature');
      const next = block[temp + 1]!;
      if (!next.startsWith('/')) assert.equal(next.length - next.trimStart().length, indent, 'hanging indent');
    } else {
      // One column: the command alone, its description indented under it.
      assert.equal(block[temp], '/temp <0–2> [--global]');
      assert.match(block[temp + 1]!, /^ {4}set the temperature/);
    }
  });

  test(`the status bar at ${columns} columns takes ${columns < 80 ? 'one row' : 'at most two rows'}`, async () => {
    const chat = await chatAt(columns, [' a', ' reply']);
    await chat.send('hi');
    await waitUntil(
      () => chat.controller.session.conversation.turns.length,
      (n) => n === 2,
      3000,
      'the reply',
    );
    await chat.waitFor('tok/s', 3000).catch(() => undefined);
    const rows = statusBarRows(chat);
    assert.ok(rows.length >= 1 && rows.length <= statusRows(columns), `${rows.length} rows: ${JSON.stringify(rows)}`);
    for (const row of rows) assert.ok(row.length <= columns, `fits: ${JSON.stringify(row)}`);
    // The model and the token count stay to the last.
    assert.match(rows.join(' '), /gpt2/);
    assert.match(rows.join(' '), /\d+\/1024/);
  });
}

test('a reply wrapped at 40 columns keeps every row at its 2-column indent', async () => {
  // Words that fill a row exactly: wrap-ansi would carry the space they break at onto the next row.
  const tokens = 'abcdefghijklmnopqrstuvwxyzabcdefghijkl mnopqrstuvwxyzabcdefghijklmnopqrstuv wxyz and more words to wrap'.split(/(?= )/);
  const chat = await chatAt(40, tokens);
  await chat.send('wrap');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    3000,
    'the reply',
  );
  const reply = after(chat, '› wrap').slice(1);
  const rows = reply.slice(
    0,
    reply.findIndex((line) => line.trim() === ''),
  );
  assert.ok(rows.length >= 3, JSON.stringify(rows));
  for (const row of rows) assert.match(row, /^ {2}\S/, `indent of 2: ${JSON.stringify(row)}`);
});

test('after a resize the transcript is printed again for the new width', async () => {
  const chat = await chatAt(120);
  await chat.send('/help');
  await chat.waitFor('Ctrl+L');
  assert.match(after(chat, '/temp ').join('\n'), /^\/temp <0–2> \[--global\] +set the temperature/);
  const epoch = chat.controller.getState().transcriptEpoch;
  chat.resize(50);
  await waitUntil(
    () => chat.controller.getState().transcriptEpoch,
    (e) => e > epoch,
    3000,
    'the redraw',
  );
  await waitUntil(
    () => after(chat, '/temp ')[0],
    (line) => line === '/temp <0–2> [--global]',
    3000,
    '/help laid out for 50 columns',
  );
  assert.equal(statusBarRows(chat).length, 1);
});

test('help layout: two columns with hanging indents, a term too wide on its own row, one column when narrow', () => {
  const sections = [
    {
      title: null,
      rows: [
        ['/a', 'short'],
        ['/bb <x>', 'a description long enough to wrap onto a second row here'],
        ['/a-very-long-command-usage-that-is-wide <arg>', 'stands alone'],
      ] as const,
    },
    { title: 'Keys:', rows: [['Enter', 'send']] as const },
  ];
  assert.deepEqual(layoutDefinitions(sections, 50), [
    '/a       short',
    '/bb <x>  a description long enough to wrap onto a',
    '         second row here',
    '/a-very-long-command-usage-that-is-wide <arg>',
    '         stands alone',
    '',
    'Keys:',
    'Enter  send',
  ]);
  assert.deepEqual(layoutDefinitions(sections, 30).slice(0, 6), [
    '/a',
    '    short',
    '/bb <x>',
    '    a description long enough',
    '    to wrap onto a second row',
    '    here',
  ]);
});

test('the status bar sheds the least needed facts first', () => {
  const info: StatusInfo = {
    model: 'gpt2',
    dtype: 'fp32',
    randomWeights: true,
    description: null,
    tokensUsed: 612,
    contextLength: 1024,
    params: { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 64, seed: null },
    sessionName: 'chat-2026-12-07-0025',
    tokensPerSecond: 23.44,
    turnsOutOfContext: 0,
    unsaved: true,
  };
  const text = (columns: number): string[] => fitStatus(statusSegments(info), columns).map((row) => row.map((s) => s.text).join(' · '));
  assert.deepEqual(text(120), [
    'gpt2 fp32 · random weights: output is noise · 612/1024 tokens · temp 0.8 top-k 50 top-p 0.95',
    'session chat-2026-12-07-0025 · not saved · 23.4 tok/s',
  ]);
  // Shortened one fact at a time, the least needed first.
  assert.deepEqual(text(80), [
    'gpt2 fp32 · random weights: output is noise · 612/1024 tokens · temp 0.8',
    'session chat-2026-12-07-0025 · not saved · 23 tok/s',
  ]);
  // One row below 80 columns: then dropped, the least needed first; warnings stay.
  assert.deepEqual(text(60), ['gpt2 · random weights · 612/1024 · temp 0.8 · not saved']);
  assert.deepEqual(text(50), ['gpt2 · random weights · 612/1024 · not saved']);
  assert.deepEqual(text(40), ['gpt2 · random weights · not saved']);
  for (const columns of [30, 40, 50, 60, 79]) assert.equal(text(columns).length, 1);
});
