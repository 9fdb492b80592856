// Tells the chat how many columns a streaming reply has beside its indent, now and after
// every resize, so it can print the reply's finished lines once.
import { useEffect } from 'react';
import { useStdout } from 'ink';
import type { ChatModel } from '../chat/chatModel.js';
import { REPLY_INDENT } from '../chat/view/replyLines.js';

export function useReplyWidth(chat: ChatModel): void {
  const { stdout } = useStdout();
  useEffect(() => {
    const tell = (): void => chat.setReplyWidth((stdout.columns || 80) - REPLY_INDENT);
    tell();
    stdout.on('resize', tell);
    return () => {
      stdout.off('resize', tell);
    };
  }, [chat, stdout]);
}
