// Every slash command through the real UI, with good and bad arguments.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { addUser, appendReply } from '../../src/prompt/conversation.js';
import { newSession } from '../../src/session/sessionStore.js';
import { COMMANDS } from '../../src/chat/commands/commandTable.js';
import { KEYS, startChat, type Chat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

async function ready(options: Parameters<typeof startChat>[0] = {}): Promise<Chat> {
  const chat = await startChat({ engine: { fallback: { tokens: [' fine', ' thanks.'] } }, ...options });
  await chat.waitFor('Model gpt2 ready');
  return chat;
}

/** Sends a command and waits for the line it should print. */
async function expectReply(chat: Chat, line: string, expected: string | RegExp): Promise<string> {
  await chat.send(line);
  return chat.waitFor(expected);
}

test('sampling commands change the status bar; bad values give one-line errors', async () => {
  const chat = await ready();
  await chat.waitFor('temp 0.8 top-k 50 top-p 0.95');
  await expectReply(chat, '/top-p', "top-p is 0.95 (Parley's default); change it with /top-p <0–1> [--global]");
  await expectReply(chat, '/temp 0.3', 'temperature set to 0.3 for this session.');
  await chat.waitFor('temp 0.3 top-k 50 top-p 0.95');
  await expectReply(chat, '/top-k 40', 'top-k set to 40');
  await expectReply(chat, '/top-p 0.5', 'top-p set to 0.5');
  await chat.waitFor('temp 0.3 top-k 40 top-p 0.5');
  await expectReply(chat, '/max-tokens 64', 'max tokens set to 64');
  await expectReply(chat, '/repeat-penalty 1.3', 'repeat penalty set to 1.3');
  await expectReply(chat, '/seed 42', 'seed set to 42');
  await expectReply(chat, '/seed off', 'seed set to random');
  assert.deepEqual(chat.controller.session.params, {
    temperature: 0.3,
    topK: 40,
    topP: 0.5,
    maxNewTokens: 64,
    repetitionPenalty: 1.3,
    seed: null,
  });

  await expectReply(chat, '/temp 5', 'temperature must be a number from 0 to 2 (got "5")');
  // A command alone shows the value in effect and where it comes from, as ollama's /show parameters does.
  await expectReply(chat, '/temp', 'temperature is 0.3 (set in this session); change it with /temp <0–2> [--global]');
  await expectReply(chat, '/repeat-penalty', 'repeat penalty is 1.3 (set in this session)');
  await expectReply(chat, '/seed', 'seed is random (set in this session)');
  await expectReply(chat, '/temp 0.5 0.6', 'usage: /temp <0–2> [--global]');
  await expectReply(chat, '/temp 0.5 --bogus', '/temp: unknown option --bogus (only --global)');
  await expectReply(chat, '/top-k 2.5', 'topK must be a whole number from 0 (off) up');
  await expectReply(chat, '/top-p 2', 'topP must be a number from 0 to 1');
  await expectReply(chat, '/max-tokens 0', 'maxNewTokens must be a whole number from 1 up');
  await expectReply(chat, '/max-tokens 5000', /maxNewTokens \(5000\) must be below the model's context length \(1024\)/);
  await expectReply(chat, '/repeat-penalty 0', 'repetitionPenalty must be a number above 0');
  await expectReply(chat, '/seed -1', 'seed must be a whole number from 0 to 4294967295, or "random"');
  await chat.waitFor('temp 0.3 top-k 40 top-p 0.5');

  // The values reach the engine.
  await chat.send('hello');
  await chat.waitFor('fine thanks.');
  const params = chat.engine.calls.at(-1)?.params;
  assert.equal(params?.temperature, 0.3);
  assert.equal(params?.topK, 40);
  assert.equal(params?.maxNewTokens, 64);
});

test('--global stores the value in the settings file; a command beats a flag', async () => {
  const chat = await ready({ flags: { model: 'gpt2', temperature: 1.5 } });
  await chat.waitFor('temp 1.5');
  await expectReply(chat, '/temp 0.2 --global', /temperature set to 0\.2 for this session and as the default\s+\(.*config\.json\)/);
  await chat.waitFor('temp 0.2');
  const file = path.join(chat.dirs.env['PARLEY_CONFIG_DIR'] ?? '', 'config.json');
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).temperature, 0.2);
  await expectReply(chat, '/settings', /temperature +0\.2 +\(session\)/);
  assert.match(chat.frame(), /Settings file: .*config\.json/);
  assert.match(chat.frame(), /Input history: .*history\.jsonl/);
});

test('/model lists aliases, switches in the background and keeps the conversation', async () => {
  const chat = await ready();
  await chat.send('hello');
  await chat.waitFor('fine thanks.');
  await expectReply(chat, '/model', /Current model: gpt2[\s\S]*distilgpt2 +Xenova\/distilgpt2[\s\S]*demo/);
  await expectReply(chat, '/model distilgpt2', 'Model distilgpt2 ready');
  await chat.waitFor('distilgpt2 fp32');
  assert.equal(chat.controller.session.conversation.turns.length, 2);
  await chat.send('again');
  await waitUntil(
    () => chat.engine.calls.length,
    (n) => n === 2,
  );
  assert.match(chat.engine.calls[1]?.prompt ?? '', /User: hello\nAssistant: fine thanks\.\nUser: again\nAssistant:$/);
});

test('/system and /persona set, show and clear the persona', async () => {
  const chat = await ready();
  await expectReply(chat, '/system', 'No persona.');
  await expectReply(chat, '/system You are a pirate.', 'Persona set.');
  await expectReply(chat, '/system', 'Persona: You are a pirate.');
  await chat.send('ahoy');
  await waitUntil(
    () => chat.engine.calls.length,
    (n) => n === 1,
  );
  assert.match(chat.engine.calls[0]?.prompt ?? '', /^You are a pirate\.\n\nUser: ahoy/);
  await chat.waitFor('fine thanks.');
  await expectReply(chat, '/persona qa', 'Persona: qa, answer questions briefly and factually.');
  await expectReply(chat, '/persona nope', 'unknown persona preset "nope" (presets: translate, qa, summarise)');
  await expectReply(chat, '/persona', 'usage: /persona <preset>');
  await expectReply(chat, '/system none', 'Persona cleared.');
  assert.equal(chat.controller.session.conversation.persona, null);
});

test('/new, /save, /sessions, /load, /resume, /delete and /export', async () => {
  const chat = await ready();
  const first = chat.controller.session.name;
  await chat.send('hello');
  await chat.waitFor('fine thanks.');
  await expectReply(chat, '/save work', /Saved session work to .*work\.json\./);
  assert.equal(chat.controller.session.name, 'work');
  assert.ok(!existsSync(chat.store.pathOf(first)), 'the autosaved file was renamed');
  await expectReply(chat, '/save bad/name', 'a session name cannot contain "/"');
  await expectReply(chat, '/new', 'New session chat-');
  await expectReply(chat, '/new work', 'a session "work" already exists; /load work continues it');
  await expectReply(chat, '/new scratch', 'New session scratch.');
  await expectReply(chat, '/save', /Saved session scratch to /);
  await expectReply(
    chat,
    '/sessions',
    /Sessions in .*sessions:\n\* scratch +(?:just now|\d+ seconds? ago) +0 turns[\s\S]* work +(?:just now|\d+ seconds? ago) +2 turns +gpt2/,
  );

  await expectReply(chat, '/load', 'usage: /load <name>');
  await expectReply(chat, '/load nothing', /there is no session "nothing"/);
  await expectReply(chat, '/load work', 'Resumed session work (2 turns).');
  await chat.waitFor('session work');
  await expectReply(chat, '/resume scratch', 'Resumed session scratch (0 turns).');

  await expectReply(chat, '/delete scratch', 'Session scratch is the one in use; /new or /load another first.');
  await expectReply(chat, '/delete ghost', 'there is no session "ghost"; /sessions lists them');
  await expectReply(chat, '/delete work', /Delete session work \(.*work\.json\)\? \(y\/N\)/);
  await chat.send('n');
  await chat.waitFor('Cancelled.');
  assert.ok(existsSync(chat.store.pathOf('work')));
  await expectReply(chat, '/delete work', /Delete session work/);
  await chat.send('y');
  await chat.waitFor('Deleted session work.');
  assert.ok(!existsSync(chat.store.pathOf('work')));

  const target = path.join(chat.dirs.root, 'out.md');
  await chat.send('hi there');
  await chat.waitFor(/hi there[\s\S]*fine thanks\./);
  await expectReply(chat, `/export ${target}`, `Exported the conversation to ${target}.`);
  assert.match(readFileSync(target, 'utf8'), /# scratch[\s\S]*hi there[\s\S]*fine thanks\./);
  assert.equal(statSync(target).mode & 0o777, 0o600, '/export writes like --export: private');
});

test('/load restores the transcript and offers to switch to its model', async () => {
  const chat = await ready();
  const saved = newSession('earlier', { model: 'distilgpt2' });
  let conversation = addUser(saved.conversation, 'What is a tide?');
  conversation = appendReply(conversation, 'The rise and fall of the sea.');
  await chat.store.save({ ...saved, conversation });
  await expectReply(chat, '/load earlier', 'Resumed session earlier (2 turns).');
  await chat.waitFor(/› What is a tide\?\n\s+The rise and fall of the sea\./);
  await chat.waitFor('Session earlier used the model distilgpt2. Switch to it? (y/N)');
  await chat.send('y');
  await chat.waitFor('Model distilgpt2 ready');
});

test('/retry, /undo and /edit', async () => {
  const chat = await ready({ engine: { scripts: [{ tokens: [' one'] }, { tokens: [' two'] }], fallback: { tokens: [' more'] } } });
  await expectReply(chat, '/retry', 'Nothing to retry yet.');
  await expectReply(chat, '/undo', 'Nothing to undo.');
  await expectReply(chat, '/edit', 'No message to edit yet.');
  await chat.send('question');
  await chat.waitFor(/question\n\s+one/);
  await expectReply(chat, '/retry', 'Regenerating the last reply…');
  await chat.waitFor(/Regenerating the last reply…\n\n\s+two/);
  assert.deepEqual(
    chat.controller.session.conversation.turns.map((t) => t.text),
    ['question', 'two'],
  );
  await expectReply(chat, '/retry now', '/retry takes no arguments');
  await expectReply(chat, '/undo', 'Removed the last exchange.');
  assert.equal(chat.controller.session.conversation.turns.length, 0);
  await chat.send('second question');
  await chat.waitFor(/second question\n\s+more/);
  await expectReply(chat, '/edit', 'Your last message is back in the input box');
  await chat.waitFor('› second question');
  assert.equal(chat.controller.session.conversation.turns.length, 0);
});

test('/context, /stats, /settings, /clear, /help and unknown commands', async () => {
  const chat = await ready();
  await expectReply(chat, '/stats', 'No replies yet.');
  await chat.send('hello');
  await chat.waitFor('fine thanks.');
  await expectReply(chat, '/context', /Window: \d+\/1024 tokens, 128 reserved for the reply\.\nTurns: 2 in context, 0 out of context\./);
  await expectReply(chat, '/stats', /Last reply: TTFT .*tok\/s, \d+ prompt \+ 2 generated tokens \(eos\)\.\nSession: 1 reply/);
  await expectReply(chat, '/settings', /Effective settings[\s\S]*model +gpt2 +\(flag\)[\s\S]*topK +50 +\(default\)/);
  await expectReply(
    chat,
    '/help',
    /\/temp <0–2> \[--global\] +set the temperature[\s\S]*\/exit +save and leave \(also \/quit\)[\s\S]*Keys:\s+Enter +send/,
  );
  for (const command of COMMANDS) assert.ok(chat.frame().includes(`/${command.name}`), `/help lists /${command.name}`);
  await expectReply(chat, '/help temp', /\/temp <0–2> \[--global\] +set the temperature/);
  await expectReply(chat, '/help tmep', 'Unknown command /tmep. Did you mean /temp?');
  await expectReply(chat, '/tmep 1', 'Unknown command /tmep. Did you mean /temp? /help lists the commands.');
  await expectReply(chat, '/frobnicate', 'Unknown command /frobnicate. /help lists the commands.');
  await expectReply(chat, '/stats please', '/stats takes no arguments');
  const epoch = chat.controller.getState().transcriptEpoch;
  await chat.send('/clear');
  await waitUntil(
    () => chat.controller.getState().transcriptEpoch,
    (e) => e === epoch + 1,
  );
  assert.deepEqual(chat.controller.getState().transcript, []);
  assert.equal(chat.controller.session.conversation.turns.length, 2);
});

test('/exit and /quit save and leave', async () => {
  for (const command of ['/exit', '/quit']) {
    const chat = await ready();
    await chat.send('bye');
    await chat.waitFor('fine thanks.');
    await chat.send(command);
    const file = chat.store.pathOf(chat.controller.session.name);
    await waitUntil(() => existsSync(file), Boolean);
    cleanup();
  }
});

test('Tab completes command names, model aliases, session names and presets', async () => {
  const chat = await ready();
  await chat.store.save(newSession('project-alpha'));
  await chat.store.save(newSession('project-beta'));
  await chat.controller.chat.refreshCompletionSources();
  await chat.type('/lo', KEYS.tab);
  await chat.waitFor('› /load');
  await chat.type('proj', KEYS.tab);
  await chat.waitFor(/› \/load project-[\s\S]*project-alpha {2}project-beta/);
  await chat.type('a', KEYS.tab, KEYS.enter);
  await chat.waitFor('Resumed session project-alpha');
  await chat.type('/model dis', KEYS.tab);
  await chat.waitFor('› /model distilgpt2');
  await chat.type(KEYS.ctrlU, '/persona su', KEYS.tab);
  await chat.waitFor('› /persona summarise');
});
