// What each slash command does, on top of the chat controller. Arguments arrive checked by
// the command table; what can still go wrong here (a taken name, a missing session, a full
// disk) becomes a one-line notice.
import path from 'node:path';
import type { EndpointInfo, SamplingParams } from '../../engine/protocol.js';
import { ESTIMATE_BYTES_PER_TOKEN, TEMPLATE_MARGIN } from '../../engine/remote/serverExtras.js';
import { MODEL_ALIASES } from '../../engine/modelRefs.js';
import { modelCacheDir } from '../../paths.js';
import { listCachedModels } from '../../hub/cachedModels.js';
import { withHubEndpoint } from './hubEndpointReport.js';
import { editLast, retry, setPersona, undo, addUser, awaitsReply } from '../../prompt/conversation.js';
import { sessionToMarkdown } from '../../session/exportMarkdown.js';
import { writeFileAtomic } from '../../session/atomicWrite.js';
import { cleanText } from '../../text/terminalText.js';
import { buildWindow } from '../../prompt/contextWindow.js';
import { windowCount } from '../../prompt/sessionWindow.js';
import { findPersonaPreset, PERSONA_PRESETS, resolvePersona } from '../../prompt/personas.js';
import { defaultSessionName, sessionNameError, uniqueSessionName } from '../../session/sessionNames.js';
import { newSession } from '../../session/sessionStore.js';
import { checkMaxNewTokens, type Settings } from '../../settings/settingsSchema.js';
import type { ChatController } from '../chatController.js';
import { formatNumber } from '../format.js';

import { modelLabel } from '../modelLabel.js';
import type { ChatCommands } from './chatCommands.js';
import { closestName } from './closestName.js';
import { COMMANDS } from './commandTable.js';
import { findCommand } from './parseSlashCommand.js';
import { formatContext, formatHelp, formatModelList, formatSessionList, formatSettings, formatStats } from './reports.js';
import { errorLine } from '../../errors.js';

const LABELS: Record<keyof SamplingParams, string> = {
  temperature: 'temperature',
  topK: 'top-k',
  topP: 'top-p',
  maxNewTokens: 'max tokens',
  repetitionPenalty: 'repeat penalty',
  seed: 'seed',
};

export function commandHandlers(chat: ChatController, now: () => Date = () => new Date()): ChatCommands {
  const notice = chat.notice.bind(chat);
  const speakerNames = () => {
    const { userName, assistantName } = chat.effective().values;
    return { user: userName, assistant: assistantName };
  };
  const busyGuard = (what: string): boolean => {
    if (!chat.busy) return false;
    notice(`Cannot ${what} while a reply is on its way; Esc stops it.`, 'error');
    return true;
  };
  const takenNames = async (): Promise<Set<string>> => new Set((await chat.store.list()).map((e) => e.name));

  const handlers: ChatCommands = {
    notice,

    async setSampling(key, value, global) {
      const model = chat.engine.model;
      if (key === 'maxNewTokens' && model) {
        const error = checkMaxNewTokens(value as number, model.contextLength);
        if (error) return notice(error, 'error');
      }
      chat.setSamplingValue(key, value);
      // Settings extends SamplingParams, so this is the same type; TS cannot see it through K.
      const asSetting = value as Settings[typeof key];
      const shown = value === null ? 'random' : formatNumber(value as number, 3);
      if (!global) return notice(`${LABELS[key]} set to ${shown} for this session.`);
      if (!chat.settings) return notice(`${LABELS[key]} set to ${shown} for this session; the settings file is unavailable, so not as the default.`, 'warning');
      try {
        chat.settings.set(key, asSetting);
      } catch (error) {
        return notice(`${LABELS[key]} set to ${shown} for this session, but not as the default: ${errorLine(error)}`, 'error');
      }
      chat.setStoredValue(key, asSetting);
      notice(`${LABELS[key]} set to ${shown} for this session and as the default (${chat.settings.path}).`);
    },

    switchModel(ref) {
      notice(`Loading ${ref}; the conversation is kept.`);
      void chat.loadModel(chat.engine.canonicalRef?.(ref) ?? ref);
    },

    async showModels() {
      const cacheDir = modelCacheDir();
      const cached = await listCachedModels(cacheDir).catch(() => []);
      notice(formatModelList(MODEL_ALIASES, chat.activeModelRef === null ? null : modelLabel(chat.activeModelRef), { dir: cacheDir, models: cached }));
    },

    async setPersona(text) {
      const persona = ['none', 'off', 'clear'].includes(text.toLowerCase()) ? null : text;
      chat.setSession({ ...chat.session, conversation: setPersona(chat.session.conversation, persona) });
      notice(persona === null ? 'Persona cleared.' : 'Persona set.');
    },

    showPersona() {
      const persona = chat.session.conversation.persona;
      notice(persona === null ? 'No persona. /system <text> or /persona <preset> sets one.' : `Persona: ${persona}`);
    },

    async usePersonaPreset(name) {
      const preset = findPersonaPreset(name);
      if (!preset) {
        return notice(`unknown persona preset "${name}" (presets: ${PERSONA_PRESETS.map((p) => p.name).join(', ')})`, 'error');
      }
      chat.setSession({ ...chat.session, conversation: setPersona(chat.session.conversation, preset.text) });
      notice(`Persona: ${preset.name}, ${preset.description}.`);
    },

    async newSession(name) {
      if (busyGuard('start a new session')) return;
      const taken = await takenNames();
      const chosen = name ?? uniqueSessionName(defaultSessionName(now()), taken);
      const nameError = sessionNameError(chosen);
      if (nameError) return notice(nameError, 'error');
      if (taken.has(chosen)) return notice(`a session "${chosen}" already exists; /load ${chosen} continues it`, 'error');
      const persona = resolvePersona(chat.effective().values.persona);
      await chat.leaveSession('starting a new session', () =>
        chat.replaceSession(newSession(chosen, { persona, now: now() }), `New session ${chosen}.`),
      );
    },

    async saveSession(name) {
      const target = name ?? chat.session.name;
      const nameError = sessionNameError(target);
      if (nameError) return notice(nameError, 'error');
      const saved = await chat.serialized(async () => {
        const session = chat.session;
        if (target !== session.name) {
          if (await chat.store.exists(target)) return null;
          if (session.revision > 0) await chat.store.rename(session.name, target);
        }
        return chat.store.save({ ...session, name: target, model: chat.storedModelRef ?? session.model }, now());
      });
      if (!saved) return notice(`a session "${target}" already exists; choose another name`, 'error');
      chat.sessionSaved(target, saved.revision, saved.updatedAt);
      notice(`Saved session ${target} to ${chat.store.pathOf(target)}.`);
      void chat.refreshCompletionSources();
    },

    async loadSession(name) {
      if (busyGuard('switch sessions')) return;
      if (name === chat.session.name) return notice(`Session ${name} is the one in use.`);
      const session = await chat.store.load(name);
      await chat.leaveSession(`loading ${name}`, () => {
        chat.replaceSession(session, `Resumed session ${name} (${session.conversation.turns.length} turns).`);
        const model = session.model;
        if (model !== null && model !== chat.storedModelRef) {
          chat.ask(`Session ${name} used the model ${model}. Switch to it?`, () => handlers.switchModel(model));
        }
      });
    },

    async listSessions() {
      notice(formatSessionList(await chat.store.list(), chat.session.name, chat.store.dir, now()));
    },

    async deleteSession(name) {
      const nameError = sessionNameError(name);
      if (nameError) return notice(nameError, 'error');
      if (name === chat.session.name) return notice(`Session ${name} is the one in use; /new or /load another first.`, 'error');
      if (!(await chat.store.exists(name))) return notice(`there is no session "${name}"; /sessions lists them`, 'error');
      chat.ask(`Delete session ${name} (${chat.store.pathOf(name)})?`, async () => {
        await chat.store.delete(name);
        notice(`Deleted session ${name}.`);
        void chat.refreshCompletionSources();
      });
    },

    async exportSession(file) {
      const target = path.resolve(file ?? `${chat.session.name}.md`);
      await writeFileAtomic(target, cleanText(sessionToMarkdown(chat.session, speakerNames()), 'text'));
      notice(`Exported the conversation to ${target}.`);
    },

    async retry() {
      if (busyGuard('retry')) return;
      const conversation = retry(chat.session.conversation);
      if (!conversation) return notice('Nothing to retry yet.', 'error');
      chat.setSession({ ...chat.session, conversation });
      chat.reprint('Regenerating the last reply…');
      chat.regenerate();
    },

    async undo() {
      if (busyGuard('undo')) return;
      const conversation = undo(chat.session.conversation);
      if (!conversation) return notice('Nothing to undo.', 'error');
      chat.setSession({ ...chat.session, conversation });
      chat.reprint('Removed the last exchange.');
      await chat.autosave();
    },

    async editLast() {
      if (busyGuard('edit')) return;
      const edited = editLast(chat.session.conversation);
      if (!edited) return notice('No message to edit yet.', 'error');
      chat.setSession({ ...chat.session, conversation: edited.conversation });
      chat.reprint('Your last message is back in the input box; Enter sends it again.');
      chat.putInInput(edited.text);
    },

    async showContext() {
      const model = chat.engine.model;
      const counter = chat.counter();
      const format = chat.format();
      if (!model || !counter || !format) return notice('No model is loaded yet, so there is no context window.', 'error');
      const pending = awaitsReply(chat.session.conversation);
      // Without a pending message, show the window the next (empty) message would get.
      const conversation = pending ? chat.session.conversation : addUser(chat.session.conversation, '', { id: 'next' });
      const { maxNewTokens } = chat.effective().values;
      const window = await buildWindow(conversation, {
        contextLength: model.contextLength,
        maxNewTokens,
        countTokens: counter,
        ...windowCount(chat.engine),
        format,
        start: chat.session.windowStart ?? null,
      });
      const included = conversation.turns.filter((t) => window.includedTurnIds.includes(t.id));
      const pieces = format.pieces(window.persona === 'included' ? conversation.persona : null, included);
      const counts = await counter(pieces.turns);
      const [personaTokens = 0] = window.persona === 'included' ? await counter([pieces.persona]) : [];
      const newestTokens = pending ? (counts.at(-1) ?? 0) : 0;
      notice(
        formatContext({
          contextLength: model.contextLength,
          maxNewTokens,
          promptTokens: window.promptTokens,
          turnsIn: included.length - (pending ? 0 : 1),
          turnsOut: window.droppedCount,
          persona: window.persona,
          personaTokens,
          earlierTurnTokens: counts.slice(0, -1).reduce((a, b) => a + b, 0),
          newestTokens,
          truncated: window.truncated,
          // A server gets the window as messages and formats them with its own template.
          ...(model.endpoint
            ? {
                rendered: window.messages.map((m) => `[${m.role}] ${m.text}`).join('\n'),
                renderedTitle: `The window as sent to ${new URL(model.endpoint.url).host}: ${window.messages.length} messages, which the server formats with the model's chat template:`,
              }
            : { rendered: window.prompt }),
        }) + (model.endpoint ? `\n${endpointContextLine(model.endpoint)}` : ''),
      );
    },

    showStats() {
      notice(formatStats(chat.session.conversation, chat.engine.model?.graph, chat.engine.model?.threading));
    },

    showSettings() {
      const { values, sources } = chat.effective();
      notice(
        formatSettings({
          ...withHubEndpoint({ ...values }, sources, process.env),
          files: [
            ['Settings file', chat.settings?.path ?? 'unavailable'],
            ['Model cache', modelCacheDir()],
            ['Sessions', chat.store.dir],
            ['Input history', chat.historyFile],
          ],
        }),
      );
    },

    showHelp(name) {
      if (name === null) return notice(formatHelp(COMMANDS));
      const command = findCommand(COMMANDS, name);
      if (!command) {
        const suggestion = closestName(name, COMMANDS.map((c) => c.name));
        return notice(`Unknown command /${name}.${suggestion ? ` Did you mean /${suggestion}?` : ''}`, 'error');
      }
      notice(formatHelp([command]).split('\n')[0] ?? '');
    },

    clearScreen() {
      chat.clearScreen();
    },

    requestExit() {
      chat.requestExit();
    },
  };
  return handlers;
}

/** On a server, where the window's numbers come from. */
export function endpointContextLine(endpoint: EndpointInfo): string {
  const margin = `plus ${TEMPLATE_MARGIN.fixed} tokens and ${TEMPLATE_MARGIN.perMessage} per message for the server's chat template`;
  const counts =
    endpoint.windowCounts === 'messages'
      ? "Token counts: the server's, of the window's messages through its own chat template (POST /tokenize)."
      : endpoint.tokenCounts === 'server'
        ? `Token counts: the server's tokenizer (POST /tokenize) on Parley's transcript of the window, ${margin} (the server does not count messages).`
        : `Token counts: estimated (${ESTIMATE_BYTES_PER_TOKEN} bytes per token, on the high side), ${margin}: the server has no POST /tokenize.`;
  const context = { server: 'as the server reports it', flag: 'from --context', default: 'a default: the server does not say; set it with --context' }[endpoint.contextFrom];
  return `${counts} Context length: ${context}.`;
}
