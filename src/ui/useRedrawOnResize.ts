// After a resize the terminal has reflowed what Ink drew for the old size: the input box's
// border wraps onto extra rows that Ink no longer knows of, and they stay in the scrollback.
// So once the size has settled, the screen is cleared and the transcript printed again for
// the new width (as gemini-cli does).
import { useEffect } from 'react';
import { useStdout } from 'ink';
import type { ChatModel } from '../chat/chatModel.js';

/** A drag of the window sends many resizes: only the last one, this long after, redraws. */
export const RESIZE_SETTLE_MS = 150;

export function useRedrawOnResize(chat: ChatModel): void {
  const { stdout } = useStdout();
  useEffect(() => {
    let timer: NodeJS.Timeout | null = null;
    let drawn = `${stdout.columns}x${stdout.rows}`;
    const onResize = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        const size = `${stdout.columns}x${stdout.rows}`;
        if (size === drawn) return;
        drawn = size;
        chat.redraw();
      }, RESIZE_SETTLE_MS);
    };
    stdout.on('resize', onResize);
    return () => {
      if (timer) clearTimeout(timer);
      stdout.off('resize', onResize);
    };
  }, [chat, stdout]);
}
