// /export: the conversation as Markdown, cleaned of control characters, into a file.
import path from 'node:path';
import { writeFileAtomic } from '../../session/atomicWrite.js';
import { sessionToMarkdown } from '../../session/exportMarkdown.js';
import { cleanText } from '../../text/terminalText.js';
import { optionalArg } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const exportCommand: SlashCommand = {
  name: 'export',
  aliases: [],
  args: '[file.md]',
  description: 'write the conversation as Markdown',
  run: async (chat, raw) => {
    const session = chat.keeper.session;
    const target = path.resolve(optionalArg(raw) ?? `${session.name}.md`);
    const { userName, assistantName } = chat.effective().values;
    await writeFileAtomic(target, cleanText(sessionToMarkdown(session, { user: userName, assistant: assistantName }), 'text'));
    chat.view.notice(`Exported the conversation to ${target}.`);
  },
};
