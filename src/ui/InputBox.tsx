import { memo } from 'react';
import { Box, Text } from 'ink';
import type { EditorState } from './inputEditing.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { useTheme } from './theme.js';

interface LineView {
  before: string;
  atCursor: string;
  after: string;
  hasCursor: boolean;
}

/** Splits the text into lines and marks where the cursor is. */
export function lineViews(editor: EditorState): LineView[] {
  const views: LineView[] = [];
  let offset = 0;
  for (const line of editor.text.split('\n')) {
    const start = offset;
    const end = start + line.length;
    offset = end + 1;
    if (editor.cursor < start || editor.cursor > end) {
      views.push({ before: line, atCursor: '', after: '', hasCursor: false });
      continue;
    }
    const at = editor.cursor - start;
    const cursorChar = line.codePointAt(at);
    const atCursor = cursorChar === undefined ? '' : String.fromCodePoint(cursorChar);
    views.push({ before: line.slice(0, at), atCursor, after: line.slice(at + atCursor.length), hasCursor: true });
  }
  return views;
}

/** Memoised: while a reply streams the box does not change, and the frames redraw only the reply. */
export const InputBox = memo(function InputBox({
  editor,
  placeholder,
  dimmed,
}: {
  editor: EditorState;
  placeholder: string;
  dimmed: boolean;
}) {
  const theme = useTheme();
  const lines = lineViews(editor);
  return (
    <Box borderStyle="round" borderColor={dimmed ? theme.muted : theme.accent} paddingX={1} flexDirection="column">
      {lines.map((line, i) => (
        <Box key={i}>
          <Text color={theme.accent} bold>
            {i === 0 ? '› ' : '  '}
          </Text>
          <Text>
            {sanitizeForTerminal(line.before)}
            {line.hasCursor ? <Text inverse>{line.atCursor ? sanitizeForTerminal(line.atCursor) || ' ' : ' '}</Text> : null}
            {sanitizeForTerminal(line.after)}
            {i === 0 && !editor.text && placeholder ? <Text color={theme.muted}>{placeholder}</Text> : null}
          </Text>
        </Box>
      ))}
    </Box>
  );
});
