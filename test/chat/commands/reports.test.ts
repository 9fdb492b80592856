import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatContext, formatHelp, formatModelList, formatSessionList, formatStats } from '../../../src/chat/commands/reports.js';
import { downloadLine, formatAge, formatBytes, progressBar } from '../../../src/text/format.js';
import type { StatusInfo } from '../../../src/chat/view/statusInfo.js';
import { statusSegments } from '../../../src/ui/StatusBar.js';
import type { SessionListEntry } from '../../../src/session/sessionStore.js';
import type { Conversation, ReplyMeta } from '../../../src/prompt/conversationTypes.js';

const meta = (over: Partial<ReplyMeta> = {}): ReplyMeta => ({
  model: 'gpt2',
  dtype: 'fp32',
  params: { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 64, seed: null },
  promptTokens: 100,
  generatedTokens: 20,
  tokensPerSecond: 12.34,
  ttftMs: 250,
  reason: 'eos',
  interrupted: false,
  ...over,
});

const conversation = (metas: ReplyMeta[]): Conversation => ({
  persona: null,
  turns: metas.flatMap((m, i) => [
    { id: `u${i}`, role: 'user' as const, text: 'q', createdAt: '2024-01-01T00:00:00Z' },
    { id: `a${i}`, role: 'assistant' as const, text: 'a', createdAt: '2024-01-01T00:00:00Z', meta: m },
  ]),
});

test('stats of the last reply and session totals', () => {
  assert.equal(formatStats({ persona: null, turns: [] }), 'No replies yet.');
  const text = formatStats(conversation([meta(), meta({ promptTokens: 50, generatedTokens: 5, interrupted: true, reason: 'cancelled' })]));
  assert.match(text, /Last reply: TTFT 250 ms, 12\.3 tok\/s, 50 prompt \+ 5 generated tokens \(cancelled, interrupted\)/);
  assert.match(text, /Session: 2 replies, 150 prompt \+ 25 generated tokens/);
});

test('context report', () => {
  const text = formatContext({
    contextLength: 1024,
    maxNewTokens: 128,
    promptTokens: 612,
    turnsIn: 4,
    turnsOut: 3,
    persona: 'included',
    personaTokens: 20,
    earlierTurnTokens: 500,
    newestTokens: 90,
    truncated: false,
  });
  assert.match(text, /612\/1024 tokens, 128 reserved/);
  assert.match(text, /4 in context, 3 out of context/);
  assert.match(text, /persona 20 tokens; earlier turns 500 tokens; your message 90 tokens/);
  assert.doesNotMatch(text, /cut/);
  const cut = formatContext({
    contextLength: 1024,
    maxNewTokens: 600,
    promptTokens: 424,
    turnsIn: 1,
    turnsOut: 0,
    persona: 'none',
    personaTokens: 0,
    earlierTurnTokens: 0,
    newestTokens: 689,
    truncated: true,
    cut: { keptTokens: 424, droppedText: 'line one\nline two of a paste that goes on and on and on and on and on and on' },
  });
  assert.match(
    cut,
    /Your message is too long for the window: its start is cut\. The window keeps its last 424 of 689 tokens; cut: "line one line two of a paste that goes on and on and on and…"\./,
  );
});

test('session list, model list and help', () => {
  const session = (name: string, updatedAt: string): SessionListEntry => ({
    ok: true,
    name,
    file: `/x/${name}.json`,
    createdAt: updatedAt,
    updatedAt,
    turns: 2,
    model: 'gpt2',
    revision: 1,
  });
  const now = new Date('2024-01-01T01:00:00Z');
  const broken: SessionListEntry = { ok: false, name: 'c', file: '/x/c.json', error: 'not JSON' };
  const list = formatSessionList([session('a', '2024-01-01T00:58:00Z'), session('b', '2023-12-30T00:00:00Z'), broken], 'a', '/x', now);
  assert.match(list, / {2}c {2}unusable: not JSON/);
  assert.match(list, /\* a {2}2 minutes ago {2}2 turns {2}gpt2/);
  assert.match(list, / {2}b {2}2 days ago/);
  assert.match(formatSessionList([], 'a', '/x', now), /No saved sessions yet \(they are kept in \/x\)/);
  assert.match(formatModelList({ gpt2: 'Xenova/gpt2' }, 'gpt2'), /Current model: gpt2[\s\S]*gpt2 {2}Xenova\/gpt2[\s\S]*demo/);
  const help = formatHelp([
    { name: 'temp', aliases: [], args: '<0–2>', description: 'set temperature' },
    { name: 'exit', aliases: ['quit'], args: '', description: 'leave' },
  ]);
  assert.match(help, /\/temp <0–2> {2}set temperature/);
  assert.match(help, /\/exit {8}leave \(also \/quit\)/);
});

test('formatters', () => {
  assert.equal(formatBytes(500), '500 B');
  assert.equal(formatBytes(1536), '1.5 kB');
  assert.equal(formatBytes(500 * 1024 * 1024), '500 MB');
  assert.equal(progressBar(0.5, 10), '[█████░░░░░]');
  assert.equal(downloadLine('model.onnx', 512, 1024, 80), 'model.onnx [███████████████░░░░░░░░░░░░░░░]  50% 512 B/1.0 kB');
  assert.equal(downloadLine('model.onnx', 512, 1024, 30), 'model.onnx  50% 512 B/1.0 kB');
  assert.equal(formatAge('2024-01-01T00:00:00Z', new Date('2024-01-01T00:00:00Z')), 'just now');
});

test('status bar segments', () => {
  const info: StatusInfo = {
    model: 'gpt2',
    dtype: 'fp32',
    randomWeights: true,
    tokensUsed: 612,
    contextLength: 1024,
    params: meta().params,
    sessionName: 'chat-1',
    tokensPerSecond: 23.44,
    turnsOutOfContext: 3,
  };
  assert.deepEqual(
    statusSegments(info).map((s) => s.text),
    [
      'gpt2 fp32',
      'random weights: output is noise',
      '612/1024 tokens',
      'temp 0.8 top-k 50 top-p 0.95',
      'session chat-1',
      '23.4 tok/s',
      '3 earlier turns out of context',
    ],
  );
  const none = statusSegments({
    ...info,
    model: null,
    randomWeights: false,
    tokensUsed: null,
    tokensPerSecond: null,
    turnsOutOfContext: 1,
  });
  assert.deepEqual(
    none.map((s) => s.text),
    ['no model', 'temp 0.8 top-k 50 top-p 0.95', 'session chat-1', '1 earlier turn out of context'],
  );
});
