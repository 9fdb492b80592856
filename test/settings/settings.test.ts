import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseCliArgs } from '../../src/cli/args.js';
import { flagSettings } from '../../src/cli/flagSettings.js';
import { addUser } from '../../src/prompt/conversation.js';
import { resolveSessionsDir } from '../../src/session/sessionsDir.js';
import { newSession } from '../../src/session/sessionStore.js';
import { openSettings, SettingsError, settingsDir } from '../../src/settings/settingsFile.js';
import { effectiveSettings, samplingParams } from '../../src/settings/settingsPrecedence.js';
import { sessionLayer } from '../../src/session/sessionLayer.js';
import {
  checkMaxNewTokens,
  DEFAULT_SETTINGS,
  settingKeyFor,
  SETTINGS_JSON_SCHEMA,
  SETTING_KEYS,
  validateSetting,
} from '../../src/settings/settingsSchema.js';

const root = await mkdtemp(join(tmpdir(), 'parley-settings-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `c${dirs++}`);

test('defaults are the documented ones', () => {
  assert.deepEqual(
    { ...DEFAULT_SETTINGS },
    {
      model: 'gpt2',
      dtype: 'fp32',
      temperature: 0.8,
      topK: 50,
      topP: 0.95,
      repetitionPenalty: 1.1,
      maxNewTokens: 128,
      seed: null,
      persona: null,
      userName: 'User',
      assistantName: 'Assistant',
      sessionsDir: null,
      convert: true,
      hubEndpoint: null,
      markdown: null,
    },
  );
  assert.deepEqual(Object.keys(SETTINGS_JSON_SCHEMA), SETTING_KEYS);
});

test('markdown: on, off, or auto (null: decided by the model)', () => {
  assert.deepEqual(validateSetting('markdown', 'on'), { ok: true, key: 'markdown', value: true });
  assert.deepEqual(validateSetting('markdown', 'Off'), { ok: true, key: 'markdown', value: false });
  assert.deepEqual(validateSetting('markdown', 'auto'), { ok: true, key: 'markdown', value: null });
  assert.deepEqual(validateSetting('markdown', 'maybe'), {
    ok: false,
    error: 'markdown must be on, off or auto (on for models with a chat template) (got "maybe")',
  });
});

test('convert: on/off words, and --no-convert turns it off for the run', () => {
  assert.deepEqual(validateSetting('convert', 'off'), { ok: true, key: 'convert', value: false });
  assert.deepEqual(validateSetting('convert', 'ON'), { ok: true, key: 'convert', value: true });
  assert.equal(validateSetting('convert', 'maybe').ok, false);
  assert.equal(flagSettings(parseCliArgs(['--no-convert'])).values.convert, false);
  assert.equal(flagSettings(parseCliArgs([])).values.convert, undefined);
});

test('validateSetting parses typed values and explains bad ones in one line', () => {
  assert.deepEqual(validateSetting('temperature', '0.7'), { ok: true, key: 'temperature', value: 0.7 });
  assert.deepEqual(validateSetting('temperature', ' 0 '), { ok: true, key: 'temperature', value: 0 });
  assert.deepEqual(validateSetting('top_k', '40'), { ok: true, key: 'topK', value: 40 });
  assert.deepEqual(validateSetting('maxNewTokens', '256'), { ok: true, key: 'maxNewTokens', value: 256 });
  assert.deepEqual(validateSetting('seed', 'random'), { ok: true, key: 'seed', value: null });
  assert.deepEqual(validateSetting('seed', '42'), { ok: true, key: 'seed', value: 42 });
  assert.deepEqual(validateSetting('dtype', 'Q8'), { ok: true, key: 'dtype', value: 'q8' });
  assert.deepEqual(validateSetting('persona', 'none'), { ok: true, key: 'persona', value: null });
  assert.deepEqual(validateSetting('persona', 'qa'), { ok: true, key: 'persona', value: 'qa' });
  assert.deepEqual(validateSetting('sessionsDir', 'default'), { ok: true, key: 'sessionsDir', value: null });

  const errors: [string, string, string][] = [
    ['temperature', '5', 'temperature must be a number from 0 to 2 (got "5")'],
    ['temperature', 'hot', 'temperature must be a number from 0 to 2 (got "hot")'],
    ['temperature', '', 'temperature must be a number from 0 to 2 (got "")'],
    ['temperature', 'Infinity', 'temperature must be a number from 0 to 2 (got "Infinity")'],
    ['topP', '1.5', 'topP must be a number from 0 to 1 (got "1.5")'],
    ['topK', '-1', 'topK must be a whole number from 0 (off) up (got "-1")'],
    ['topK', '2.5', 'topK must be a whole number from 0 (off) up (got "2.5")'],
    ['maxNewTokens', '0', 'maxNewTokens must be a whole number from 1 up, below the model\u2019s context length (got "0")'],
    ['repetitionPenalty', '0', 'repetitionPenalty must be a number above 0 and at most 10 (1 is off) (got "0")'],
    ['seed', '-3', 'seed must be a whole number from 0 to 4294967295, or "random" (got "-3")'],
    ['dtype', 'fp64', 'dtype must be one of fp32, fp16, q8, int8, uint8, q4, q4f16 (got "fp64")'],
    ['userName', 'Bob:', 'userName must be a name of 1 to 32 characters without colons or control characters (got "Bob:")'],
    ['sessionsDir', 'relative/dir', 'sessionsDir must be an absolute path, or "none" for the default (got "relative/dir")'],
  ];
  for (const [key, raw, error] of errors) assert.deepEqual(validateSetting(key, raw), { ok: false, error }, `${key}=${raw}`);
  const unknown = validateSetting('colour', 'red');
  assert.ok(!unknown.ok && unknown.error.startsWith('unknown setting "colour" (known: model, dtype, temperature'));
  assert.equal(settingKeyFor('Repetition-Penalty'), 'repetitionPenalty');
  assert.equal(settingKeyFor('nonsense'), null);
});

test('maxNewTokens must be below the context length, checked where it is known', () => {
  assert.equal(checkMaxNewTokens(128, 1024), null);
  assert.equal(checkMaxNewTokens(1023, 1024), null);
  assert.match(checkMaxNewTokens(1024, 1024) ?? '', /maxNewTokens \(1024\) must be below the model's context length \(1024\)/);
  assert.match(checkMaxNewTokens(0, 1024) ?? '', /from 1 up/);
});

test('precedence: flags > session > settings > defaults, with the source of every value', () => {
  const session = { ...newSession('s', { model: 'distilgpt2', params: { temperature: 0.3, topK: 10 } }) };
  const { values, sources } = effectiveSettings({
    flags: { temperature: 1.2, seed: null },
    session: sessionLayer(session),
    settings: { temperature: 0.5, topK: 20, topP: 0.5, model: 'gpt2-medium' },
  });
  assert.equal(values.temperature, 1.2);
  assert.equal(sources.temperature, 'flag');
  assert.equal(values.topK, 10);
  assert.equal(sources.topK, 'session');
  assert.equal(values.model, 'distilgpt2');
  assert.equal(sources.model, 'session');
  assert.equal(values.topP, 0.5);
  assert.equal(sources.topP, 'settings');
  assert.equal(values.maxNewTokens, 128);
  assert.equal(sources.maxNewTokens, 'default');
  assert.equal(values.seed, null);
  assert.equal(sources.seed, 'flag', 'null set by a flag is a value, not "unset"');
  assert.deepEqual(samplingParams(values), {
    temperature: 1.2,
    topK: 10,
    topP: 0.5,
    repetitionPenalty: 1.1,
    maxNewTokens: 128,
    seed: null,
  });
  // No layers at all: the defaults.
  const bare = effectiveSettings({});
  assert.deepEqual(bare.values, { ...DEFAULT_SETTINGS });
  assert.ok(Object.values(bare.sources).every((s) => s === 'default'));
  assert.deepEqual(sessionLayer(null), {});
  // A session's persona is its conversation, not a settings layer.
  const withPersona = { ...session, conversation: addUser(session.conversation, 'x') };
  assert.equal(sessionLayer({ ...withPersona, conversation: { ...withPersona.conversation, persona: 'P' } }).persona, undefined);
});

test('settings file: set, read back; only what the user set is stored', async () => {
  const dir = freshDir();
  const settings = openSettings({ configDir: dir });
  assert.equal(settings.path, join(dir, 'config.json'));
  assert.deepEqual(settings.stored(), {});
  settings.set('temperature', 0.4);
  settings.set('seed', null);
  settings.set('persona', 'translate');
  assert.deepEqual(settings.stored(), { temperature: 0.4, seed: null, persona: 'translate' });
  assert.deepEqual(openSettings({ configDir: dir }).stored(), { temperature: 0.4, seed: null, persona: 'translate' });
  assert.throws(
    () => settings.set('topP', 3),
    (e: unknown) => e instanceof SettingsError && e.message === 'topP must be a number from 0 to 1',
  );
});

test('a hand-edited invalid settings file is reported with its path and left as it is', async () => {
  const cases: [string, RegExp][] = [
    ['{"temperature": 9, "topK": 5}', /invalid settings: temperature must be a number from 0 to 2 \(found 9\)/],
    ['{"temperature": 0.5,', /not valid JSON/],
    ['[1, 2]', /must be a JSON object/],
    ['{"maxNewTokens": "many"}', /maxNewTokens must be a whole number/],
  ];
  for (const [text, message] of cases) {
    const dir = freshDir();
    const file = join(dir, 'config.json');
    await mkdir(dir, { recursive: true });
    await writeFile(file, text);
    assert.throws(
      () => openSettings({ configDir: dir }),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.file === file &&
        e.message.startsWith(file) &&
        message.test(e.message) &&
        /Parley has not changed it/.test(e.message),
      text,
    );
    assert.equal(await readFile(file, 'utf8'), text, 'never reset');
  }
});

test('a settings file broken after opening is reported on the next read, not reset', async () => {
  const dir = freshDir();
  const settings = openSettings({ configDir: dir });
  settings.set('topK', 7);
  await writeFile(settings.path, '{"topK": -1}');
  assert.throws(
    () => settings.stored(),
    (e: unknown) => e instanceof SettingsError && e.message.includes(settings.path),
  );
  assert.equal(await readFile(settings.path, 'utf8'), '{"topK": -1}');
});

test('the config directory comes from PARLEY_CONFIG_DIR when not given', () => {
  assert.equal(settingsDir({ env: { PARLEY_CONFIG_DIR: '/tmp/somewhere' } }), '/tmp/somewhere');
  assert.equal(settingsDir({ configDir: '/a', env: { PARLEY_CONFIG_DIR: '/b' } }), '/a');
  assert.ok(settingsDir({ env: {} }).endsWith('parley'), 'platform config dir, no -nodejs suffix');
});

test('sessions directory: flag > PARLEY_SESSIONS_DIR > setting > platform data directory', () => {
  const env = { PARLEY_SESSIONS_DIR: '/env/sessions' };
  assert.deepEqual(resolveSessionsDir({ flag: '/flag', env, setting: '/set' }), { dir: '/flag', source: 'flag' });
  assert.deepEqual(resolveSessionsDir({ env, setting: '/set' }), { dir: '/env/sessions', source: 'env' });
  assert.deepEqual(resolveSessionsDir({ env: {}, setting: '/set' }), { dir: '/set', source: 'settings' });
  assert.deepEqual(resolveSessionsDir({ env: {}, defaultDir: '/data/parley/sessions' }), {
    dir: '/data/parley/sessions',
    source: 'default',
  });
  const platform = resolveSessionsDir({ env: {} });
  assert.equal(platform.source, 'default');
  assert.match(platform.dir, /parley[\\/](Data[\\/])?sessions$/);
  assert.ok(!platform.dir.startsWith(process.cwd()), 'not the current directory');
  assert.equal(resolveSessionsDir({ flag: 'rel' }).dir, join(process.cwd(), 'rel'));
});
