// /markdown on|off|auto: whether replies are shown as Markdown, kept in the settings file.
// Alone, it says what is in effect and why. Replies already on screen stay as they were
// drawn; /clear draws the conversation again the new way. /export keeps the raw text anyway.
import { validateSetting } from '../../settings/settingsSchema.js';
import { errorLine } from '../../errors.js';
import { describeMarkdown, markdownInEffect } from '../markdownMode.js';
import type { ChatContext } from '../chatContext.js';
import type { SlashCommand } from './slashCommand.js';

const USAGE = 'usage: /markdown on|off|auto';

export const markdownCommand: SlashCommand = {
  name: 'markdown',
  aliases: [],
  args: '[on|off|auto]',
  description: 'show replies as Markdown (auto: for models with a chat template); kept as the default',
  run: (chat, raw) => {
    const words = raw.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return chat.view.notice(`${current(chat)}; change it with /markdown on|off|auto`);
    if (words.length > 1) return chat.view.notice(USAGE, 'error');
    const result = validateSetting('markdown', words[0]!);
    if (!result.ok || result.key !== 'markdown') return chat.view.notice(result.ok ? USAGE : result.error, 'error');
    chat.settings.forgetFlag('markdown');
    chat.settings.setStored('markdown', result.value);
    chat.refreshStatus();
    const file = chat.settingsFile;
    if (!file)
      return chat.view.notice(`${current(chat)} for this run; the settings file is unavailable, so not as the default.`, 'warning');
    try {
      file.set('markdown', result.value);
    } catch (error) {
      return chat.view.notice(`${current(chat)} for this run, but not as the default: ${errorLine(error)}`, 'error');
    }
    chat.view.notice(`${current(chat)}, from the next reply on (kept in ${file.path}).`);
  },
};

function current(chat: ChatContext): string {
  const setting = chat.effective().values.markdown;
  return describeMarkdown(setting, markdownInEffect(setting, chat.engine.model));
}
