// A separate process for the session store tests (not a test file itself):
//   crash DIR NAME        saves ever longer versions of a session in a loop, printing
//                         "saved N" after each save that completed (N = turns saved),
//                         until it is killed;
//   try-save DIR NAME N   adds a user turn of N characters and saves once, printing the
//                         outcome as JSON (used under a file size limit and as another user);
//   hold-lock DIR NAME    takes the session's save lock, prints "locked" and keeps it until
//                         it is killed.
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { addUser, appendReply } from '../../src/prompt/conversation.js';
import { acquireLock } from '../../src/session/sessionLock.js';
import { saveSession, SessionStore } from '../../src/session/sessionStore.js';

const [mode, dir, name, size] = process.argv.slice(2);
if (dir === undefined || name === undefined) throw new Error('usage: sessionChild crash|try-save DIR NAME [N]');
const store = new SessionStore(dir);

if (mode === 'crash') {
  let session = await store.loadOrCreate(name);
  for (let i = 0; ; i++) {
    let conversation = addUser(session.conversation, `question ${session.conversation.turns.length} ${'ü😀'.repeat(i % 50)}`);
    conversation = appendReply(conversation, `answer ${conversation.turns.length} ${'x'.repeat((i * 37) % 3000)}`);
    session = await store.save({ ...session, conversation });
    process.stdout.write(`saved ${session.conversation.turns.length}\n`);
  }
} else if (mode === 'try-save') {
  const session = await store.loadOrCreate(name);
  const attempt = { ...session, conversation: addUser(session.conversation, 'y'.repeat(Number(size ?? 10))) };
  const result = await saveSession(store, attempt);
  process.stdout.write(
    JSON.stringify(
      result.ok
        ? { ok: true, turns: result.session.conversation.turns.length }
        : { ok: false, code: result.error.code, message: result.error.message, turnsInMemory: attempt.conversation.turns.length },
    ),
  );
} else if (mode === 'hold-lock') {
  const file = store.pathOf(name);
  await mkdir(dir, { recursive: true });
  const release = await acquireLock(join(dirname(file), `.${basename(file)}.lock`), 0);
  if (release === null) throw new Error('the lock is taken');
  process.stdout.write('locked\n');
  setInterval(() => undefined, 60_000);
} else {
  throw new Error(`unknown mode ${mode}`);
}
