// Subscribes to the terminal's input through Ink's stdin, decoded by inputDecoder. Ink's
// parsed input stream is reached through its stdin context's event emitter: useInput sits
// on the same emitter but loses Backspace, Alt+Enter and pastes (see inputDecoder.ts).
import { useEffect, useRef } from 'react';
import { useStdin, useStdout } from 'ink';
import { createInputDecoder, type InputEvent } from './inputDecoder.js';

const BRACKETED_PASTE_ON = '\u001b[?2004h';
const BRACKETED_PASTE_OFF = '\u001b[?2004l';

export function useTerminalInput(onEvent: (event: InputEvent) => void): void {
  const { setRawMode, isRawModeSupported, internal_eventEmitter: emitter } = useStdin();
  const { stdout } = useStdout();
  // The latest handler, so the subscription is made once and never sees stale state.
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    if (!isRawModeSupported) return;
    setRawMode(true);
    return () => setRawMode(false);
  }, [isRawModeSupported, setRawMode]);

  useEffect(() => {
    if (!stdout.isTTY) return;
    stdout.write(BRACKETED_PASTE_ON);
    return () => {
      stdout.write(BRACKETED_PASTE_OFF);
    };
  }, [stdout]);

  useEffect(() => {
    const decoder = createInputDecoder();
    const onInput = (chunk: string): void => {
      for (const event of decoder.push(chunk)) handler.current(event);
    };
    emitter.on('input', onInput);
    return () => {
      emitter.off('input', onInput);
    };
  }, [emitter]);
}
