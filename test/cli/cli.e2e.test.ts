import { after, before, test } from 'node:test';
import { MODEL_ALIASES } from '../../src/engine/load/modelRefs.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newSession, SessionStore } from '../../src/session/sessionStore.js';
import { addUser, appendReply } from '../../src/prompt/conversation.js';
import { MODELS_CACHE_DIR, REPO_ROOT, randomWeightsModelDir, shortContextModelDir, tinyModelDir } from '../helpers/fixtures.js';
import { tempParleyEnv, type TempParleyEnv } from '../helpers/parleyEnv.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
let home: TempParleyEnv;
let dir: string;
let model: string;
let env: NodeJS.ProcessEnv;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function parley(args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, cwd: dir }, (error, stdout, stderr) => {
      const code = error && typeof error.code === 'number' ? error.code : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

before(async () => {
  model = await tinyModelDir();
  home = await tempParleyEnv('cli');
  dir = home.root;
  env = { PATH: process.env['PATH'], ...home.env };
});

after(() => home.remove());

test('--version and --help answer without loading a model', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = await parley(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), `parley ${pkg.version}`);
  const h = await parley(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /--max-tokens/);
  assert.match(h.stdout, /--repeat-penalty/);
});

test('one-shot: -p streams a reply to stdout; a seed reproduces it', async () => {
  const args = ['--model', model, '-p', 'Hello', '--max-tokens', '12', '--seed', '7', '--temperature', '0.9'];
  const a = await parley(args);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(a.stdout.trim().length > 0, 'a reply was printed');
  assert.equal(a.stderr, '');
  const b = await parley(args);
  assert.equal(b.stdout, a.stdout);
});

test('one-shot: text piped on stdin is the prompt', async () => {
  const r = await parley(['--model', model, '--max-tokens', '5', '--temperature', '0'], 'piped prompt\n');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.trim().length > 0);
});

test('--help names every model alias', async () => {
  const help = await parley(['--help']);
  assert.equal(help.code, 0);
  for (const alias of [...Object.keys(MODEL_ALIASES), 'demo'])
    assert.match(help.stdout, new RegExp(`(?<![\\w.-])${alias.replace('.', '\\.')}(?![\\w.-])`), alias);
});

test('bad flags and missing models give one clear line on stderr and a non-zero exit', async () => {
  const bad = await parley(['-p', 'hi', '--temperature', 'hot']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /temperature must be a number from 0 to 2/);
  const unknown = await parley(['--bogus']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "parley: unknown option --bogus\nTry 'parley --help'.\n");
  const typo = await parley(['--modle', 'gpt2']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, "parley: unknown option --modle (did you mean --model?)\nTry 'parley --help'.\n");
  const noValue = await parley(['-p', 'hi', '--model']);
  assert.match(noValue.stderr, /^parley: option --model needs a value\n/);
  const serveTypo = await parley(['serve', '--prot', '9000']);
  assert.equal(serveTypo.code, 2);
  assert.match(serveTypo.stderr, /^parley serve: unknown option --prot \(did you mean --port\?\)\n/);
  const unknownModel = await parley(['--model', 'qwen', '-p', 'hi']);
  assert.equal(unknownModel.code, 1);
  assert.match(unknownModel.stderr, /^parley: unknown model "qwen": .*did you mean qwen2\.5\? aliases: demo, gpt2, /);
  assert.equal(unknownModel.stderr.trim().split('\n').length, 1);
  const missing = await parley(['--model', path.join(dir, 'absent'), '-p', 'hi']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^parley: model folder not found: .*absent\n$/);
  const offline = await parley(['--model', 'gpt2', '--offline', '-p', 'hi']);
  assert.equal(offline.code, 1);
  assert.match(offline.stderr, /not in the model cache/);
  assert.ok(!/\n\s+at /.test(offline.stderr), 'no stack trace');
});

test('a mistyped engine variable is one line naming it, before any model loads; --version still answers', async () => {
  const spin = await parley(['--model', 'demo', '-p', 'hi'], undefined, { PARLEY_SPIN: '0' });
  assert.equal(spin.code, 2);
  assert.equal(spin.stderr, 'parley: PARLEY_SPIN must be on, off or auto, not "0"\n');
  const prefill = await parley(['serve', '--model', 'demo'], undefined, { PARLEY_Q4_PREFILL: 'yes\u001b[2J' });
  assert.equal(prefill.code, 2);
  // A pipe gets the text without its control characters: the escape is gone, its printable rest stays.
  assert.equal(prefill.stderr, 'parley: PARLEY_Q4_PREFILL must be q8 or unset, not "yes[2J"\n');
  const version = await parley(['--version'], undefined, { PARLEY_SPIN: '0' });
  assert.equal(version.code, 0);
});

test('--session twice leaves a file with two exchanges; list and export see it', async () => {
  for (const text of ['hi', 'and again']) {
    const r = await parley(['--model', model, '-p', text, '--session', 'demo', '--max-tokens', '6']);
    assert.equal(r.code, 0, r.stderr);
  }
  const saved = JSON.parse(await readFile(path.join(dir, 'sessions', 'demo.json'), 'utf8')) as {
    turns: { role: string; text: string }[];
    model: string;
  };
  const turns = saved.turns;
  assert.deepEqual(
    turns.map((t) => t.role),
    ['user', 'assistant', 'user', 'assistant'],
  );
  assert.equal(turns[2]!.text, 'and again');
  assert.equal(saved.model, model, 'the folder is remembered as an absolute path');

  const list = await parley(['--list-sessions']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /demo\s+.*4 turns/);
  const out = path.join(dir, 'demo.md');
  const exp = await parley(['--export', 'demo', '--out', out]);
  assert.equal(exp.code, 0, exp.stderr);
  const md = await readFile(out, 'utf8');
  assert.match(md, /and again/);
  assert.equal((await stat(out)).mode & 0o777, 0o600, 'an export is as private as the session');
});

test('a corrupt session file is reported and left byte-for-byte intact', async () => {
  const file = path.join(dir, 'sessions', 'broken.json');
  const garbage = '{"format": "parley-session", "version": 1, "conversation": [truncated';
  await writeFile(file, garbage);
  const r = await parley(['--model', model, '-p', 'hi', '--session', 'broken', '--max-tokens', '4']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /broken\.json/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(await readFile(file, 'utf8'), garbage);
  const list = await parley(['--list-sessions']);
  assert.match(list.stdout, /broken\s+unreadable/);
  assert.match(list.stdout, /demo/);
});

// C0 and C1 controls other than \n and \t, and the bidi overrides.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

test('one-shot on a random-weights model: the control characters it writes reach a pipe only with --raw', async () => {
  // With random weights the model samples over every byte token; with this seed, its 24th
  // token is STX (U+0002). The model is generated once into the tests' model cache.
  const random = await randomWeightsModelDir();
  const args = [
    '--model',
    random,
    '-p',
    'hi',
    '--max-tokens',
    '32',
    '--seed',
    '14',
    '--temperature',
    '1',
    '--top-k',
    '0',
    '--top-p',
    '1',
    '--repeat-penalty',
    '1',
  ];
  const cache = { PARLEY_CACHE_DIR: MODELS_CACHE_DIR };
  const raw = await parley([...args, '--raw'], undefined, cache);
  assert.equal(raw.code, 0, raw.stderr);
  assert.ok(raw.stdout.includes('\u0002'), `the demo model wrote no control character with this seed: ${JSON.stringify(raw.stdout)}`);
  const piped = await parley(args, undefined, cache);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, raw.stdout.replace(CONTROLS, ''));
});

test('--list-sessions and --export clean names, model refs and text that come from session files', async () => {
  const store = new SessionStore(path.join(dir, 'sessions'));
  const session = newSession('hostile', { model: 'gpt2\u001b]0;pwned\u0007\u202e' });
  const conversation = appendReply(addUser(session.conversation, 'colour?'), '\u001b[31mred\u001b[0m \u2066x\u2069');
  await store.save({ ...session, conversation });

  const list = await parley(['--list-sessions']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /hostile .* gpt2\]0;pwned<U\+202E>\n/);
  assert.equal(list.stdout.match(CONTROLS), null);
  assert.ok((await parley(['--list-sessions', '--raw'])).stdout.includes('gpt2\u001b]0;pwned\u0007\u202e'));

  const exported = await parley(['--export', 'hostile']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.stdout.match(CONTROLS), null);
  assert.match(exported.stdout, /\[31mred\[0m <U\+2066>x<U\+2069>/);
  const raw = await parley(['--export', 'hostile', '--raw']);
  assert.ok(raw.stdout.includes('\u001b[31mred\u001b[0m \u2066x\u2069'), 'the conversation exactly as saved');
  assert.equal(raw.stdout.split('## ')[0]!.match(CONTROLS), null, 'the headers Parley writes are clean even then');
  const out = path.join(dir, 'hostile.md');
  assert.equal((await parley(['--export', 'hostile', '--out', out])).code, 0);
  assert.equal((await readFile(out, 'utf8')).match(CONTROLS), null);
});

test('one-shot on a 128-position model: the default reply length fits it; a chosen one too long is lowered with a notice', async () => {
  const model = await shortContextModelDir();
  const byDefault = await parley(['--model', model, '-p', 'Hello', '--seed', '2']);
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.equal(byDefault.stderr, '');
  assert.ok(byDefault.stdout.trim().length > 0);
  const chosen = await parley(['--model', model, '-p', 'Hello', '--seed', '2', '--max-tokens', '500']);
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.equal(chosen.stderr, 'parley: max tokens 500 does not fit this model (128 tokens of context): using 32\n');
});
