// /temp, /top-k, /top-p, /max-tokens, /repeat-penalty, /seed: one sampling value each, for
// the session (where it wins over the flag) and with --global also in the settings file.
import type { SamplingParams } from '../../engine/protocol.js';
import { checkMaxNewTokens, validateSetting, type Settings } from '../../settings/settingsSchema.js';
import { formatNumber } from '../../text/format.js';
import type { ChatContext } from '../chatContext.js';
import { errorLine } from '../../errors.js';
import { splitArgs } from './parseSlashCommand.js';
import type { SlashCommand } from './slashCommand.js';

const LABELS: Record<keyof SamplingParams, string> = {
  temperature: 'temperature',
  topK: 'top-k',
  topP: 'top-p',
  maxNewTokens: 'max tokens',
  repetitionPenalty: 'repeat penalty',
  seed: 'seed',
};

function samplingCommand(name: string, key: keyof SamplingParams, args: string, description: string): SlashCommand {
  return {
    name,
    aliases: [],
    args: `${args} [--global]`,
    description: `${description}; --global also makes it the default`,
    run: async (chat, raw) => {
      const { words, flags } = splitArgs(raw);
      const unknown = [...flags].filter((f) => f !== 'global');
      if (unknown.length > 0) return chat.view.notice(`/${name}: unknown option --${unknown[0]} (only --global)`, 'error');
      if (words.length === 0 && flags.size === 0) return chat.view.notice(currentValue(chat, key, `/${name} ${args} [--global]`));
      if (words.length !== 1) return chat.view.notice(`usage: /${name} ${args} [--global]`, 'error');
      const result = validateSetting(key, words[0] ?? '');
      if (!result.ok) return chat.view.notice(result.error, 'error');
      setSampling(chat, key, result.value as SamplingParams[typeof key], flags.has('global'));
    },
  };
}

const SOURCE_TEXT = {
  flag: 'from the command line',
  session: 'set in this session',
  settings: 'from the settings file',
  model: "the model's own default, from its generation_config.json",
  default: "Parley's default",
} as const;

/** `/temp` alone: the value in effect, where it comes from, and how to change it. */
function currentValue(chat: ChatContext, key: keyof SamplingParams, usage: string): string {
  const { values, sources } = chat.effective();
  const value = values[key];
  const shown = value === null ? 'random' : formatNumber(value, 3);
  return `${LABELS[key]} is ${shown} (${SOURCE_TEXT[sources[key]]}); change it with ${usage}`;
}

function setSampling<K extends keyof SamplingParams>(chat: ChatContext, key: K, value: SamplingParams[K], global: boolean): void {
  const notice = chat.view.notice.bind(chat.view);
  const model = chat.engine.model;
  if (key === 'maxNewTokens' && model) {
    const error = checkMaxNewTokens(value as number, model.contextLength);
    if (error) return notice(error, 'error');
  }
  // A value chosen in the chat goes into the session and wins over the flag.
  chat.settings.forgetFlag(key);
  const session = chat.keeper.session;
  chat.setSession({ ...session, params: { ...session.params, [key]: value } });
  // Settings extends SamplingParams, so this is the same type; TS cannot see it through K.
  const asSetting = value as Settings[typeof key];
  const shown = value === null ? 'random' : formatNumber(value as number, 3);
  if (!global) return notice(`${LABELS[key]} set to ${shown} for this session.`);
  const file = chat.settingsFile;
  if (!file)
    return notice(`${LABELS[key]} set to ${shown} for this session; the settings file is unavailable, so not as the default.`, 'warning');
  try {
    file.set(key, asSetting);
  } catch (error) {
    return notice(`${LABELS[key]} set to ${shown} for this session, but not as the default: ${errorLine(error)}`, 'error');
  }
  chat.settings.setStored(key, asSetting);
  chat.refreshStatus();
  notice(`${LABELS[key]} set to ${shown} for this session and as the default (${file.path}).`);
}

export const samplingCommands: readonly SlashCommand[] = [
  samplingCommand('temp', 'temperature', '<0–2>', 'set the temperature (0 is greedy)'),
  samplingCommand('top-k', 'topK', '<n>', 'sample from the n likeliest tokens (0 is off)'),
  samplingCommand('top-p', 'topP', '<0–1>', 'nucleus sampling threshold'),
  samplingCommand('max-tokens', 'maxNewTokens', '<n>', 'longest reply in tokens'),
  samplingCommand('repeat-penalty', 'repetitionPenalty', '<x>', 'penalty for repeating tokens (1 is off)'),
  samplingCommand('seed', 'seed', '<n|off>', 'fixed seed for reproducible replies, or off'),
];
