// The chat screen: transcript, live reply, loading panel, input box and status bar, and
// the keyboard. What the keys do to the input text is inputEditing's business; what a
// sent line does is the controller's.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Box, Text, useStdin, useStdout } from 'ink';
import { completeInput } from './completion.js';
import type { CompletableCommand } from './completion.js';
import { historyNewer, historyOlder, startHistory, withEntry, type HistoryCursor } from './history.js';
import type { InputEvent, KeyName } from './inputDecoder.js';
import { editInEditor } from './externalEditor.js';
import { InputBox } from './InputBox.js';
import { applyEdit, editorWith, EMPTY_EDITOR, moveVertically, type EditAction, type EditorState } from './inputEditing.js';
import { LiveReply } from './LiveReply.js';
import { ModelLoading } from './ModelLoading.js';
import { HeldNotices, QueuedMessages } from './QueuedMessages.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { StatusBar } from './StatusBar.js';
import { useTheme } from './theme.js';
import { Transcript } from './Transcript.js';
import { useQuit } from './useQuit.js';
import { useRedrawOnResize } from './useRedrawOnResize.js';
import { useReplyWidth } from './useReplyWidth.js';
import { useTerminalInput } from './useTerminalInput.js';
import { listDirSync } from './pathCompletion.js';
import type { ChatModel } from '../chat/chatModel.js';

export interface AppProps {
  chat: ChatModel;
  commands: readonly CompletableCommand[];
  history: readonly string[];
  onHistoryEntry: (text: string) => void;
}

const KEY_EDITS: Partial<Record<KeyName, EditAction>> = {
  left: { type: 'left' },
  right: { type: 'right' },
  wordLeft: { type: 'wordLeft' },
  wordRight: { type: 'wordRight' },
  home: { type: 'lineStart' },
  end: { type: 'lineEnd' },
  ctrlE: { type: 'lineEnd' },
  backspace: { type: 'backspace' },
  delete: { type: 'delete' },
  deleteWordBefore: { type: 'deleteWordBefore' },
  deleteToLineStart: { type: 'deleteToLineStart' },
  newline: { type: 'insert', text: '\n' },
};

const SHOW_CURSOR = '\u001b[?25h';
const BRACKETED_PASTE_ON = '\u001b[?2004h';

export function App({ chat, commands, history, onHistoryEntry }: AppProps) {
  const view = useSyncExternalStore(chat.subscribe, chat.getState);
  const theme = useTheme();
  const { stdout } = useStdout();
  const { setRawMode, isRawModeSupported } = useStdin();
  useReplyWidth(chat);
  useRedrawOnResize(chat);
  // Refs hold the truth and state mirrors it for rendering: several keys can arrive in
  // one chunk, before React re-renders, and each must see the previous one's result.
  const [editor, setEditor] = useState<EditorState>(EMPTY_EDITOR);
  const editorRef = useRef<EditorState>(EMPTY_EDITOR);
  const historyRef = useRef<HistoryCursor>(startHistory(history));
  const [candidates, setCandidates] = useState<string[]>([]);
  const [ctrlCPending, setCtrlCPendingState] = useState(false);
  const ctrlCPendingRef = useRef(false);
  /** Ctrl+X was pressed: a Ctrl+E right after it opens the editor. */
  const ctrlXRef = useRef(false);
  const setCtrlCPending = (pending: boolean): void => {
    ctrlCPendingRef.current = pending;
    setCtrlCPendingState(pending);
  };
  const { quit, exiting } = useQuit(chat, view.exitRequested);

  const edit = useCallback(
    (next: EditorState) => {
      editorRef.current = next;
      setEditor(next);
      chat.draftChanged(next.text);
    },
    [chat],
  );

  // /edit and the like hand text to the input box.
  const inputRequest = view.inputRequest;
  useEffect(() => {
    if (inputRequest) edit(editorWith(inputRequest.text));
  }, [inputRequest, edit]);

  const send = (): void => {
    const editor = editorRef.current;
    const text = editor.text;
    // A line ending in a backslash continues on the next line instead of being sent.
    if (text.endsWith('\\') && editor.cursor === text.length) {
      edit(editorWith(text.slice(0, -1) + '\n'));
      return;
    }
    if (view.confirm !== null) {
      chat.answer(/^\s*y(es)?\s*$/i.test(text));
      edit(EMPTY_EDITOR);
      return;
    }
    if (view.choice !== null) {
      chat.choose(text);
      edit(EMPTY_EDITOR);
      return;
    }
    if (!text.trim()) return;
    historyRef.current = startHistory(withEntry(historyRef.current.entries, text));
    onHistoryEntry(text);
    edit(EMPTY_EDITOR);
    chat.submit(text);
  };

  /** Ctrl+X Ctrl+E, /editor: the input box's text composed in $EDITOR, which gets the terminal meanwhile. */
  const composeInEditor = (): void => {
    const result = editInEditor(editorRef.current.text, process.env, () => {
      if (isRawModeSupported) setRawMode(false);
      if (stdout.isTTY) stdout.write(SHOW_CURSOR);
      return () => {
        if (isRawModeSupported) setRawMode(true);
        // Editors such as vim turn bracketed paste off as they leave.
        if (stdout.isTTY) stdout.write(BRACKETED_PASTE_ON);
      };
    });
    // The editor drew over the screen: it is drawn anew.
    chat.redraw();
    if (result.kind === 'edited') edit(editorWith(result.text));
    else chat.report(result.message);
  };

  const editorRequest = view.editorRequest;
  useEffect(() => {
    if (editorRequest) composeInEditor();
    // Only a new request opens the editor; composeInEditor itself changes every render.
  }, [editorRequest]);

  const complete = (): void => {
    const completion = completeInput(editorRef.current.text, commands, view.completionSources, listDirSync);
    if (!completion) return;
    edit(editorWith(completion.text));
    setCandidates(completion.candidates);
  };

  const walkHistory = (direction: -1 | 1): void => {
    const moved = moveVertically(editorRef.current, direction);
    if (moved) {
      edit(moved);
      return;
    }
    const cursor = historyRef.current;
    const step = direction === -1 ? historyOlder(cursor, editorRef.current.text) : historyNewer(cursor);
    if (!step) return;
    historyRef.current = step.cursor;
    edit(editorWith(step.text));
  };

  const onKey = (key: KeyName): void => {
    const editor = editorRef.current;
    const afterCtrlX = ctrlXRef.current;
    ctrlXRef.current = key === 'ctrlX';
    if (afterCtrlX && key === 'ctrlE') {
      composeInEditor();
      return;
    }
    const generating = view.live !== null;
    switch (key) {
      // Esc and Ctrl+C first take back a queued message (the newest), then stop the reply.
      case 'ctrlC':
        if (view.queued.length > 0) chat.unqueue();
        else if (generating) chat.stop();
        else if (editor.text) edit(EMPTY_EDITOR);
        else if (ctrlCPendingRef.current) quit();
        else setCtrlCPending(true);
        return;
      case 'escape':
        if (view.queued.length > 0) chat.unqueue();
        else if (generating) chat.stop();
        else if (view.confirm !== null) chat.answer(false);
        else if (view.choice !== null) chat.choose('');
        return;
      case 'ctrlD':
        if (editor.text) edit(applyEdit(editor, { type: 'delete' }));
        else quit();
        return;
      case 'ctrlL':
        chat.clearScreen();
        return;
      case 'enter':
        send();
        return;
      case 'tab':
        complete();
        return;
      case 'up':
        walkHistory(-1);
        return;
      case 'down':
        walkHistory(1);
        return;
      default: {
        const action = KEY_EDITS[key];
        if (action) edit(applyEdit(editor, action));
      }
    }
  };

  useTerminalInput((event: InputEvent) => {
    if (exiting.current) return;
    if (!(event.kind === 'key' && event.key === 'ctrlC')) setCtrlCPending(false);
    if (!(event.kind === 'key' && event.key === 'tab')) setCandidates([]);
    if (event.kind === 'key') onKey(event.key);
    else edit(applyEdit(editorRef.current, { type: 'insert', text: sanitizeForTerminal(event.text) }));
  });

  const columns = stdout.columns || 80;
  const busy = view.live !== null;
  return (
    <Box flexDirection="column">
      <Transcript key={view.transcriptEpoch} items={view.transcript} markdown={view.markdown} />
      {view.loading ? <ModelLoading state={view.loading} columns={columns} /> : null}
      {view.live ? (
        <LiveReply
          text={view.live.text}
          lines={view.live.lines}
          waitingForModel={view.live.waitingForModel}
          restarting={view.live.restarting ?? false}
          queued={view.queued.length > 0}
        />
      ) : null}
      <HeldNotices items={view.held} />
      <QueuedMessages queued={view.queued} />
      {view.confirm !== null ? <Text color={theme.warning}>{sanitizeForTerminal(view.confirm)} (y/N)</Text> : null}
      {view.choice !== null ? (
        <Text color={theme.warning}>
          {sanitizeForTerminal(view.choice.question)} {view.choice.answers}
        </Text>
      ) : null}
      {ctrlCPending ? <Text color={theme.warning}>Press Ctrl+C again to exit</Text> : null}
      <InputBox editor={editor} dimmed={busy} placeholder={busy ? '' : columns < 40 ? '/help' : 'Message, or /help for commands'} />
      {candidates.length > 0 ? <Text color={theme.muted}>{candidates.join('  ')}</Text> : null}
      <StatusBar info={view.status} />
    </Box>
  );
}
