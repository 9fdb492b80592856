// /settings: every setting in effect and where it comes from, and the files Parley uses.
import { modelCacheDir } from '../../paths.js';
import { markdownInEffect } from '../markdownMode.js';
import { personaLabel, resolvePersona } from '../../prompt/personas.js';
import { noArgs } from './commandArgs.js';
import { withHubEndpoint } from './hubEndpointReport.js';
import { formatSettings } from './reports.js';
import type { SlashCommand } from './slashCommand.js';

export const settingsCommand: SlashCommand = {
  name: 'settings',
  aliases: [],
  args: '',
  description: 'effective settings and where each comes from',
  run: (chat, raw) => {
    if (!noArgs(chat, 'settings', raw)) return;
    const { values, sources } = chat.effective();
    // The persona in effect is the session's (a preset chosen with /persona, text set with
    // /system); the sessions folder is the one in use, wherever it came from; Markdown left
    // to the model says what that gives.
    const persona = chat.keeper.session.conversation.persona;
    const markdown = values.markdown ?? `auto (${markdownInEffect(null, chat.engine.model) ? 'on' : 'off'} for this model)`;
    const inEffect = { ...values, persona: persona === null ? null : personaLabel(persona), sessionsDir: chat.store.dir, markdown };
    const from: Record<string, string> = {
      ...sources,
      persona: persona === null || persona === resolvePersona(values.persona) ? sources.persona : 'session',
      sessionsDir: chat.sessionsDirSource,
    };
    chat.view.notice(
      formatSettings({
        ...withHubEndpoint(inEffect, from, process.env),
        files: [
          ['Settings file', chat.settingsFile?.path ?? 'unavailable'],
          ['Model cache', modelCacheDir()],
          ['Sessions', chat.store.dir],
          ['Input history', chat.historyFile],
        ],
      }),
    );
  },
};
