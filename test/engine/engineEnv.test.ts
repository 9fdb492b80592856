import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineEnvError } from '../../src/engine/engineEnv.js';

test('the engine variables: unset, empty and the documented values pass; anything else is named', () => {
  for (const env of [
    {},
    { PARLEY_SPIN: '' },
    { PARLEY_SPIN: 'on' },
    { PARLEY_SPIN: 'off' },
    { PARLEY_SPIN: 'auto', PARLEY_Q4_PREFILL: 'q8' },
    { PARLEY_Q4_PREFILL: '' },
  ])
    assert.equal(engineEnvError(env), null, JSON.stringify(env));
  assert.equal(engineEnvError({ PARLEY_SPIN: 'yes' }), 'PARLEY_SPIN must be on, off or auto, not "yes"');
  assert.equal(engineEnvError({ PARLEY_Q4_PREFILL: 'q4' }), 'PARLEY_Q4_PREFILL must be q8 or unset, not "q4"');
});
