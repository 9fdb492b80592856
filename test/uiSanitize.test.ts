import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeForTerminal } from '../src/ui/sanitize.js';

test('keeps ordinary text, newlines, tabs and unicode', () => {
  assert.equal(sanitizeForTerminal('héllo\n\tworld 😀'), 'héllo\n\tworld 😀');
});

test('strips CSI, OSC (titles, hyperlinks), DCS, BEL and other controls', () => {
  const hostile = [
    'a\u001b[31mred\u001b[0m',
    '\u001b]0;pwned title\u0007',
    '\u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\',
    '\u001bP+q544e\u001b\\',
    '\u001b[2J\u001b[H',
    'bell\u0007',
    'c1\u009b31m\u0085',
    'nul\u0000del\u007f',
  ].join('');
  assert.equal(sanitizeForTerminal(hostile), 'aredlinkbellc1nuldel');
});

test('carriage returns cannot overwrite earlier text', () => {
  assert.equal(sanitizeForTerminal('safe\rEVIL'), 'safe\nEVIL');
  assert.equal(sanitizeForTerminal('a\r\nb'), 'a\nb');
});

test('unterminated sequences lose their escape character', () => {
  assert.ok(!sanitizeForTerminal('x\u001b]0;title').includes('\u001b'));
  assert.ok(!sanitizeForTerminal('x\u001b').includes('\u001b'));
});
