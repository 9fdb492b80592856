import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser, appendReply, awaitsReply, editLast, emptyConversation, retry, setPersona, undo } from '../../src/prompt/conversation.js';
import type { Conversation } from '../../src/prompt/conversationTypes.js';

function chat(...pairs: [string, string | null][]): Conversation {
  let c = emptyConversation('Be brief.');
  for (const [q, a] of pairs) {
    c = addUser(c, q);
    if (a !== null) c = appendReply(c, a);
  }
  return c;
}

const texts = (c: Conversation): string[] => c.turns.map((t) => `${t.role}:${t.text}`);

test('addUser and appendReply append turns with unique ids and ISO times, without mutating', () => {
  const empty = emptyConversation();
  const one = addUser(empty, 'hi', { now: new Date('2024-01-02T03:04:05Z') });
  const two = appendReply(one, 'hello');
  assert.equal(empty.turns.length, 0);
  assert.equal(one.turns.length, 1);
  assert.deepEqual(texts(two), ['user:hi', 'assistant:hello']);
  assert.equal(one.turns[0]?.createdAt, '2024-01-02T03:04:05.000Z');
  assert.notEqual(two.turns[0]?.id, two.turns[1]?.id);
  assert.ok(awaitsReply(one));
  assert.ok(!awaitsReply(two));
});

test('ids are never reused within a conversation', () => {
  let c = emptyConversation();
  for (let i = 0; i < 500; i++) c = addUser(c, String(i));
  assert.equal(new Set(c.turns.map((t) => t.id)).size, 500);
  assert.throws(() => addUser(c, 'x', { id: c.turns[0]!.id }), /duplicate turn id/);
});

test('retry drops the last reply so the last user turn can be sent again', () => {
  const c = chat(['a', '1'], ['b', '2']);
  const r = retry(c);
  assert.ok(r);
  assert.deepEqual(texts(r), ['user:a', 'assistant:1', 'user:b']);
  assert.equal(r.turns.at(-1)?.id, c.turns[2]?.id, 'the user turn keeps its id');
  // A failed reply left the user turn unanswered: retry resends it unchanged.
  assert.deepEqual(texts(retry(r)!), texts(r));
  assert.equal(retry(emptyConversation()), null);
  assert.deepEqual(texts(c), ['user:a', 'assistant:1', 'user:b', 'assistant:2'], 'input unchanged');
});

test('undo removes the last exchange, whole', () => {
  const c = chat(['a', '1'], ['b', '2']);
  assert.deepEqual(texts(undo(c)!), ['user:a', 'assistant:1']);
  assert.deepEqual(texts(undo(undo(c)!)!), []);
  assert.equal(undo(emptyConversation()), null);
  // An unanswered question is an exchange too.
  assert.deepEqual(texts(undo(chat(['a', '1'], ['b', null]))!), ['user:a', 'assistant:1']);
  assert.equal(undo(c)!.persona, 'Be brief.');
});

test('editLast removes the last exchange and returns its user text for the input box', () => {
  const c = chat(['a', '1'], ['second question', 'answer']);
  const edited = editLast(c);
  assert.ok(edited);
  assert.equal(edited.text, 'second question');
  assert.deepEqual(texts(edited.conversation), ['user:a', 'assistant:1']);
  assert.equal(editLast(emptyConversation()), null);
});

test('persona: set, blank or null clears', () => {
  const c = chat(['a', '1']);
  assert.equal(setPersona(c, 'Pirate.').persona, 'Pirate.');
  assert.equal(setPersona(c, '   ').persona, null);
  assert.equal(setPersona(c, null).persona, null);
});
