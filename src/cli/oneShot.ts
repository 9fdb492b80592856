import { homedir } from 'node:os';
import type { EngineClient } from '../engine/engineClient.js';
import { canonicalModelRef } from '../engine/load/modelRefs.js';
import type { SamplingParams } from '../engine/protocol.js';
import { EngineError } from '../engine/engineClient.js';
import { addUser, setPersona } from '../prompt/conversation.js';
import { chatTurn, type ChatTurnResult } from '../chat/chatTurn.js';
import { formatFor } from '../prompt/promptFormat.js';
import { resolvePersona } from '../prompt/personas.js';
import { effectiveSettings, modelLayer, samplingParams } from '../settings/settingsPrecedence.js';
import { sessionLayer } from '../session/sessionLayer.js';
import type { Settings } from '../settings/settingsSchema.js';
import { replyBudget } from '../chat/replyBudget.js';
import { newSession, type SessionStore } from '../session/sessionStore.js';
import { cleanText, createTextCleaner, outputModeFor } from '../text/terminalText.js';
import { loadProgressLine } from '../chat/view/loadProgressLine.js';
import { errorMessage } from '../errors.js';
import { ALIAS_DTYPES, DEMO_MODEL } from '../engine/load/modelRefs.js';

export interface OneShotInput {
  engine: EngineClient;
  prompt: string;
  flags: Partial<Settings>;
  stored: Partial<Settings>;
  offline: boolean;
  /** Continue (or create) this saved session; without it nothing is saved. */
  session?: { name: string; store: SessionStore };
  system?: string;
  /** Write the reply exactly as the model wrote it, control characters included. */
  raw?: boolean;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  signal: AbortSignal;
}

/** `parley -p`: one reply streamed to stdout. Returns the exit code; errors go to stderr as one line. */
export async function runOneShot(input: OneShotInput): Promise<number> {
  const { engine, stdout, stderr } = input;
  const fail = (message: string): number => {
    stderr.write(`parley: ${cleanText(message, outputModeFor(stderr, false))}\n`);
    return 1;
  };

  let session = input.session ? await input.session.store.loadOrCreate(input.session.name) : newSession('one-shot');
  const layers = { flags: input.flags, session: sessionLayer(session), settings: input.stored };
  const { values, sources } = effectiveSettings(layers);
  const persona =
    input.system !== undefined ? resolvePersona(input.system) : session.revision === 0 ? resolvePersona(values.persona) : undefined;
  if (persona !== undefined) session = { ...session, conversation: setPersona(session.conversation, persona) };

  const showProgress = stderr.isTTY === true;
  try {
    const loadOptions = {
      dtype: values.dtype,
      dtypeIsDefault: sources.dtype === 'default',
      offline: input.offline,
      noConvert: !values.convert,
    };
    await engine.load(values.model, loadOptions, (p) => {
      if (showProgress) stderr.write(`\r\x1b[2K${loadProgressLine(values.model, p, stderr.columns ?? 80)}`);
    });
  } catch (err) {
    if (showProgress) stderr.write('\r\x1b[2K');
    const message = errorMessage(err);
    const hint = err instanceof EngineError && err.code === 'network' ? ' (try --model ./folder, or --model demo)' : '';
    return fail(message + hint);
  }
  if (showProgress) stderr.write('\r\x1b[2K');
  const model = engine.model!;
  // An alias (and the demo model) has a dtype of its own when none was chosen: no notice for that.
  const expected =
    sources.dtype === 'default' ? (values.model === DEMO_MODEL ? 'q8' : (ALIAS_DTYPES[values.model] ?? values.dtype)) : values.dtype;
  if (model.dtype !== expected) stderr.write(`parley: loaded ${model.dtype}: the model has no ${values.dtype} file\n`);
  if (model.graph && !model.graph.converted && values.convert) stderr.write(`parley: running ${model.graph.note}\n`);
  // The model's own sampling defaults, now that it is known, under the user's values.
  const sampling = effectiveSettings({ ...layers, model: modelLayer(model.generationDefaults) });
  // As in the chat: a default reply length fits the model, and a chosen one too long for it is lowered.
  const budget = replyBudget(sampling.values.maxNewTokens, sampling.sources.maxNewTokens, model.contextLength);
  if (budget.lowered) {
    stderr.write(
      `parley: max tokens ${sampling.values.maxNewTokens} does not fit this model (${model.contextLength} tokens of context): using ${budget.maxNewTokens}\n`,
    );
  }
  const params = samplingParams({ ...sampling.values, maxNewTokens: budget.maxNewTokens });

  session = {
    ...session,
    model: canonicalModelRef(values.model, process.cwd(), homedir()),
    dtype: model.dtype,
    params: { ...session.params, ...pickSampling(input.flags) },
    conversation: addUser(session.conversation, input.prompt),
  };
  const format = formatFor(model, { user: values.userName, assistant: values.assistantName }, { date: new Date(session.createdAt) });
  let result: ChatTurnResult | null = null;
  const cleaner = createTextCleaner(outputModeFor(stdout, input.raw === true));
  for await (const event of chatTurn({ engine, session, params, format, signal: input.signal })) {
    if (event.type === 'delta') stdout.write(cleaner.push(event.text));
    else if (event.type === 'done') result = event.result;
  }
  stdout.write(cleaner.end() + '\n');
  if (!result) return fail('the reply ended without a result');
  if (result.window && result.window.droppedCount > 0) {
    stderr.write(`parley: ${result.window.droppedCount} earlier turns out of context\n`);
  }
  if (result.window?.persona === 'dropped') {
    stderr.write(`parley: the persona is too long for the model's context (${result.window.budget} tokens) and was left out\n`);
  }
  if (input.session) {
    try {
      await input.session.store.save(result.session);
    } catch (err) {
      return fail(errorMessage(err));
    }
  }
  if (result.reason === 'error') return fail(result.error ?? 'generation failed');
  return result.interrupted ? 130 : 0;
}

/** Sampling values given as flags are remembered by the session they were used in. */
function pickSampling(flags: Partial<Settings>): Partial<SamplingParams> {
  const { temperature, topK, topP, repetitionPenalty, maxNewTokens, seed } = flags;
  return Object.fromEntries(
    Object.entries({ temperature, topK, topP, repetitionPenalty, maxNewTokens, seed }).filter(([, v]) => v !== undefined),
  );
}
