import { memo } from 'react';
import { Box, Static, Text, useStdout } from 'ink';
import type { Turn } from '../prompt/conversationTypes.js';
import { REPLY_INDENT, wrapReply } from '../chat/view/replyLines.js';
import { DefinitionListView } from './DefinitionListView.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { renderMarkdown } from '../markdown/markdownBlocks.js';
import { styler } from '../markdown/markdownStyle.js';
import { useTheme } from './theme.js';
import type { TranscriptItem } from '../chat/view/transcriptItems.js';

export function UserTurn({ text }: { text: string }) {
  const theme = useTheme();
  return (
    <Box>
      <Text color={theme.user} bold>
        {'› '}
      </Text>
      <Text>{sanitizeForTerminal(text)}</Text>
    </Box>
  );
}

export function AssistantText({ text, interrupted }: { text: string; interrupted: boolean }) {
  const theme = useTheme();
  const { stdout } = useStdout();
  return (
    <Box paddingLeft={REPLY_INDENT} flexDirection="column">
      <Text>
        {wrapReply(sanitizeForTerminal(text), (stdout.columns || 80) - REPLY_INDENT)}
        {interrupted ? (
          <Text color={theme.warning} italic>
            {text ? ' ' : ''}(interrupted)
          </Text>
        ) : null}
      </Text>
    </Box>
  );
}

/**
 * Lines Parley drew from cleaned text (a reply as Markdown): printed as they are, since
 * their only escape sequences are its own styles; cleaning them again would remove those.
 */
export function StyledLines({ lines, interrupted = false }: { lines: readonly string[]; interrupted?: boolean }) {
  const theme = useTheme();
  return (
    <Box paddingLeft={REPLY_INDENT} flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i}>{line || ' '}</Text>
      ))}
      {interrupted ? (
        <Text color={theme.warning} italic>
          (interrupted)
        </Text>
      ) : null}
    </Box>
  );
}

/** A finished reply as Markdown: its text cleaned, then drawn for the width the reply has. */
function MarkdownTurn({ text, interrupted, width }: { text: string; interrupted: boolean; width: number }) {
  const theme = useTheme();
  const lines = renderMarkdown(sanitizeForTerminal(text), { width, styler: styler(theme.colors) });
  return <StyledLines lines={lines} interrupted={interrupted} />;
}

interface Display {
  markdown: boolean;
  /** Columns a reply has beside its indent. */
  width: number;
}

const PLAIN_DISPLAY: Display = { markdown: false, width: 80 - REPLY_INDENT };

function TurnView({ turn, display }: { turn: Turn; display: Display }) {
  const theme = useTheme();
  if (turn.role === 'user') return <UserTurn text={turn.text} />;
  if (turn.role === 'system') {
    return (
      <Text color={theme.muted} italic>
        {`[system] ${sanitizeForTerminal(turn.text)}`}
      </Text>
    );
  }
  const interrupted = turn.meta?.interrupted ?? false;
  if (display.markdown) return <MarkdownTurn text={turn.text} interrupted={interrupted} width={display.width} />;
  return <AssistantText text={turn.text} interrupted={interrupted} />;
}

export function ItemView({ item, display = PLAIN_DISPLAY }: { item: TranscriptItem; display?: Display }) {
  const theme = useTheme();
  if (item.kind === 'turn') {
    return (
      <Box marginBottom={item.turn.role === 'assistant' ? 1 : 0}>
        <TurnView turn={item.turn} display={display} />
      </Box>
    );
  }
  if (item.kind === 'replyLines') {
    return (
      <Box paddingLeft={REPLY_INDENT} flexDirection="column">
        {item.lines.map((line, i) => (
          <Text key={i}>{sanitizeForTerminal(line) || ' '}</Text>
        ))}
      </Box>
    );
  }
  if (item.kind === 'styledLines') {
    if (item.end === null) return <StyledLines lines={item.lines} />;
    return (
      <Box marginBottom={1}>
        <StyledLines lines={item.lines} interrupted={item.end.interrupted} />
      </Box>
    );
  }
  if (item.kind === 'replyEnd') {
    return (
      <Box marginBottom={1}>
        <AssistantText text={item.text} interrupted={item.interrupted} />
      </Box>
    );
  }
  if (item.kind === 'definitions') return <DefinitionListView sections={item.sections} />;
  const color = item.tone === 'error' ? theme.error : item.tone === 'warning' ? theme.warning : theme.muted;
  return (
    <Box marginBottom={1}>
      <Text color={color}>{sanitizeForTerminal(item.text)}</Text>
    </Box>
  );
}

/**
 * Finished items, printed once: a long conversation costs nothing to redraw. `markdown`
 * applies to replies printed from now on (a reprint after /clear or /load shows all of them so).
 */
export const Transcript = memo(function Transcript({ items, markdown = false }: { items: readonly TranscriptItem[]; markdown?: boolean }) {
  const { stdout } = useStdout();
  const display: Display = { markdown, width: Math.max(1, (stdout.columns || 80) - REPLY_INDENT) };
  return <Static items={[...items]}>{(item) => <ItemView key={item.id} item={item} display={display} />}</Static>;
});
