// Every slash command, in one table: /help and Tab completion are generated from it.
import type { SamplingParams } from '../../engine/protocol.js';
import { validateSetting } from '../../settings/settingsSchema.js';
import type { ArgKind } from '../completion.js';
import type { ChatCommands } from './chatCommands.js';
import { splitArgs } from './parseSlashCommand.js';

export interface SlashCommand {
  name: string;
  aliases: readonly string[];
  /** Usage of the arguments, as shown by /help; '' for none. */
  args: string;
  description: string;
  /** What Tab completes the argument from. */
  completes?: ArgKind;
  run(chat: ChatCommands, args: string): Promise<void> | void;
}

function samplingCommand(name: string, key: keyof SamplingParams, args: string, description: string): SlashCommand {
  return {
    name,
    aliases: [],
    args: `${args} [--global]`,
    description: `${description}; --global also makes it the default`,
    run: async (chat, raw) => {
      const { words, flags } = splitArgs(raw);
      const unknown = [...flags].filter((f) => f !== 'global');
      if (unknown.length > 0) return chat.notice(`/${name}: unknown option --${unknown[0]} (only --global)`, 'error');
      if (words.length !== 1) return chat.notice(`usage: /${name} ${args} [--global]`, 'error');
      const result = validateSetting(key, words[0] ?? '');
      if (!result.ok) return chat.notice(result.error, 'error');
      await chat.setSampling(key, result.value as SamplingParams[typeof key], flags.has('global'));
    },
  };
}

/** The whole argument string, or null when there is none. */
const optional = (raw: string): string | null => (raw.trim() === '' ? null : raw.trim());

function requireArg(chat: ChatCommands, name: string, usage: string, raw: string): string | null {
  const value = optional(raw);
  if (value === null) chat.notice(`usage: /${name} ${usage}`, 'error');
  return value;
}

function noArgs(name: string, raw: string, chat: ChatCommands): boolean {
  if (raw.trim() === '') return true;
  chat.notice(`/${name} takes no arguments`, 'error');
  return false;
}

export const COMMANDS: readonly SlashCommand[] = [
  samplingCommand('temp', 'temperature', '<0–2>', 'set the temperature (0 is greedy)'),
  samplingCommand('top-k', 'topK', '<n>', 'sample from the n likeliest tokens (0 is off)'),
  samplingCommand('top-p', 'topP', '<0–1>', 'nucleus sampling threshold'),
  samplingCommand('max-tokens', 'maxNewTokens', '<n>', 'longest reply in tokens'),
  samplingCommand('repeat-penalty', 'repetitionPenalty', '<x>', 'penalty for repeating tokens (1 is off)'),
  samplingCommand('seed', 'seed', '<n|off>', 'fixed seed for reproducible replies, or off'),
  {
    name: 'model',
    aliases: [],
    args: '[alias|hub id|folder|endpoint:NAME]',
    description: 'switch model, keeping the conversation (endpoint:NAME: a model on the --endpoint server); alone, list aliases and cached models',
    completes: 'model',
    run: (chat, raw) => {
      const ref = optional(raw);
      if (ref === null) return chat.showModels();
      chat.switchModel(ref);
    },
  },
  {
    name: 'system',
    aliases: [],
    args: '[text|none]',
    description: 'set the persona (system text); alone, show it',
    run: async (chat, raw) => {
      if (raw.trim() === '') chat.showPersona();
      else await chat.setPersona(raw.trim());
    },
  },
  {
    name: 'persona',
    aliases: [],
    args: '<preset>',
    description: 'use a ready-made persona',
    completes: 'persona',
    run: async (chat, raw) => {
      const name = requireArg(chat, 'persona', '<preset>', raw);
      if (name !== null) await chat.usePersonaPreset(name);
    },
  },
  {
    name: 'new',
    aliases: [],
    args: '[name]',
    description: 'start a new session (the current one is saved)',
    run: (chat, raw) => chat.newSession(optional(raw)),
  },
  {
    name: 'save',
    aliases: [],
    args: '[name]',
    description: 'save the session, or save it under a new name',
    run: (chat, raw) => chat.saveSession(optional(raw)),
  },
  {
    name: 'load',
    aliases: ['resume'],
    args: '<name>',
    description: 'continue a saved session',
    completes: 'session',
    run: async (chat, raw) => {
      const name = requireArg(chat, 'load', '<name>', raw);
      if (name !== null) await chat.loadSession(name);
    },
  },
  {
    name: 'sessions',
    aliases: [],
    args: '',
    description: 'list saved sessions',
    run: async (chat, raw) => {
      if (noArgs('sessions', raw, chat)) await chat.listSessions();
    },
  },
  {
    name: 'delete',
    aliases: [],
    args: '<name>',
    description: 'delete a saved session (asks first)',
    completes: 'session',
    run: async (chat, raw) => {
      const name = requireArg(chat, 'delete', '<name>', raw);
      if (name !== null) await chat.deleteSession(name);
    },
  },
  {
    name: 'export',
    aliases: [],
    args: '[file.md]',
    description: 'write the conversation as Markdown',
    run: (chat, raw) => chat.exportSession(optional(raw)),
  },
  {
    name: 'retry',
    aliases: [],
    args: '',
    description: 'regenerate the last reply',
    run: async (chat, raw) => {
      if (noArgs('retry', raw, chat)) await chat.retry();
    },
  },
  {
    name: 'undo',
    aliases: [],
    args: '',
    description: 'remove the last exchange',
    run: async (chat, raw) => {
      if (noArgs('undo', raw, chat)) await chat.undo();
    },
  },
  {
    name: 'edit',
    aliases: [],
    args: '',
    description: 'put your last message back in the input box',
    run: async (chat, raw) => {
      if (noArgs('edit', raw, chat)) await chat.editLast();
    },
  },
  {
    name: 'context',
    aliases: [],
    args: '',
    description: 'what the context window holds',
    run: async (chat, raw) => {
      if (noArgs('context', raw, chat)) await chat.showContext();
    },
  },
  {
    name: 'stats',
    aliases: [],
    args: '',
    description: 'speed and token counts of the last reply and the session',
    run: (chat, raw) => {
      if (noArgs('stats', raw, chat)) chat.showStats();
    },
  },
  {
    name: 'settings',
    aliases: [],
    args: '',
    description: 'effective settings and where each comes from',
    run: (chat, raw) => {
      if (noArgs('settings', raw, chat)) chat.showSettings();
    },
  },
  {
    name: 'clear',
    aliases: [],
    args: '',
    description: 'clear the screen (the conversation stays)',
    run: (chat, raw) => {
      if (noArgs('clear', raw, chat)) chat.clearScreen();
    },
  },
  {
    name: 'exit',
    aliases: ['quit'],
    args: '',
    description: 'save and leave',
    run: (chat) => chat.requestExit(),
  },
  {
    name: 'help',
    aliases: ['?'],
    args: '[command]',
    description: 'list commands and keys',
    completes: 'command',
    run: (chat, raw) => chat.showHelp(optional(raw)?.replace(/^\//, '') ?? null),
  },
];
