// Leaving the chat: the chat stops a reply and saves first, and may keep the app open to ask
// about a session it could not save. /exit asks for it through the view state.
import { useCallback, useEffect, useRef, type MutableRefObject } from 'react';
import { useApp } from 'ink';
import type { ChatModel } from '../chat/chatModel.js';

export interface Quit {
  quit: () => void;
  /** True from a quit until the chat says the app may close, or that it may not. */
  exiting: MutableRefObject<boolean>;
}

export function useQuit(chat: ChatModel, exitRequested: boolean): Quit {
  const { exit } = useApp();
  const exiting = useRef(false);
  const quit = useCallback(() => {
    if (exiting.current) return;
    exiting.current = true;
    void chat.exit().then((leave) => {
      if (leave) exit();
      else exiting.current = false;
    });
  }, [chat, exit]);
  useEffect(() => {
    if (exitRequested) quit();
  }, [exitRequested, quit]);
  return { quit, exiting };
}
