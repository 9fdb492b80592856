// /settings: every setting in effect and where it comes from, and the files Parley uses.
import { modelCacheDir } from '../../paths.js';
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
    chat.view.notice(
      formatSettings({
        ...withHubEndpoint({ ...values }, sources, process.env),
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
