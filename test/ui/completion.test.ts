import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeInput, type CompletableCommand } from '../../src/ui/completion.js';
import type { CompletionSources } from '../../src/chat/view/viewState.js';

const table: CompletableCommand[] = [
  { name: 'model', aliases: [], completes: 'model' },
  { name: 'load', aliases: ['resume'], completes: 'session' },
  { name: 'sessions', aliases: [] },
  { name: 'save', aliases: [] },
  { name: 'temp', aliases: [] },
];
const sources: CompletionSources = {
  model: ['gpt2', 'distilgpt2', 'demo'],
  session: ['work-notes', 'work-plan', 'poems'],
  persona: [],
  command: [],
};

test('a unique command name is completed with a trailing space', () => {
  assert.deepEqual(completeInput('/mo', table, sources), { text: '/model ', candidates: [] });
  assert.deepEqual(completeInput('/res', table, sources), { text: '/resume ', candidates: [] });
});

test('several matches complete to the common prefix and are listed', () => {
  assert.deepEqual(completeInput('/s', table, sources), { text: '/s', candidates: ['save', 'sessions'] });
  assert.deepEqual(completeInput('/se', table, sources), { text: '/sessions ', candidates: [] });
});

test('arguments complete from their source', () => {
  assert.deepEqual(completeInput('/model g', table, sources), { text: '/model gpt2 ', candidates: [] });
  assert.deepEqual(completeInput('/load work', table, sources), {
    text: '/load work-',
    candidates: ['work-notes', 'work-plan'],
  });
  assert.deepEqual(completeInput('/model ', table, sources)?.candidates, ['demo', 'distilgpt2', 'gpt2']);
});

test('nothing to complete', () => {
  assert.equal(completeInput('hello', table, sources), null);
  assert.equal(completeInput('/zz', table, sources), null);
  assert.equal(completeInput('/temp 0', table, sources), null);
  assert.equal(completeInput('/model x', table, sources), null);
});
