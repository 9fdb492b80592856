import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSlashCommand, splitArgs } from '../../../src/chat/commands/parseSlashCommand.js';
import { closestName, editDistance } from '../../../src/text/closestName.js';

const table = [
  { name: 'temp', aliases: [] },
  { name: 'load', aliases: ['resume'] },
  { name: 'sessions', aliases: [] },
  { name: 'exit', aliases: ['quit'] },
];

test('messages, commands and arguments', () => {
  assert.deepEqual(parseSlashCommand('hello', table), { kind: 'message', text: 'hello' });
  assert.deepEqual(parseSlashCommand('//etc/hosts', table), { kind: 'message', text: '/etc/hosts' });
  assert.deepEqual(parseSlashCommand('/temp 0.5 --global ', table), { kind: 'command', command: table[0], args: '0.5 --global' });
  assert.deepEqual(parseSlashCommand('/RESUME chat', table), { kind: 'command', command: table[1], args: 'chat' });
  assert.deepEqual(parseSlashCommand('/quit', table), { kind: 'command', command: table[3], args: '' });
});

test('an unknown command suggests the closest name', () => {
  assert.deepEqual(parseSlashCommand('/tmep 1', table), { kind: 'unknown', name: 'tmep', suggestion: 'temp' });
  assert.deepEqual(parseSlashCommand('/sess', table), { kind: 'unknown', name: 'sess', suggestion: 'sessions' });
  assert.deepEqual(parseSlashCommand('/xyzzy', table), { kind: 'unknown', name: 'xyzzy', suggestion: null });
});

test('edit distance and closest name', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closestName('exti', ['exit', 'edit']), 'exit');
  assert.equal(closestName('qwertyuiop', ['exit']), null);
});

test('splitArgs separates flags', () => {
  assert.deepEqual(splitArgs(' 0.3  --global '), { words: ['0.3'], flags: new Set(['global']) });
});
