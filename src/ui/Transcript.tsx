import { memo } from 'react';
import { Box, Static, Text, useStdout } from 'ink';
import type { Turn } from '../prompt/conversationTypes.js';
import { REPLY_INDENT, wrapReply } from '../chat/view/replyLines.js';
import { DefinitionListView } from './DefinitionListView.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
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

function TurnView({ turn }: { turn: Turn }) {
  const theme = useTheme();
  if (turn.role === 'user') return <UserTurn text={turn.text} />;
  if (turn.role === 'system') {
    return (
      <Text color={theme.muted} italic>
        {`[system] ${sanitizeForTerminal(turn.text)}`}
      </Text>
    );
  }
  return <AssistantText text={turn.text} interrupted={turn.meta?.interrupted ?? false} />;
}

export function ItemView({ item }: { item: TranscriptItem }) {
  const theme = useTheme();
  if (item.kind === 'turn') {
    return (
      <Box marginBottom={item.turn.role === 'assistant' ? 1 : 0}>
        <TurnView turn={item.turn} />
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

/** Finished items, printed once: a long conversation costs nothing to redraw. */
export const Transcript = memo(function Transcript({ items }: { items: readonly TranscriptItem[] }) {
  return <Static items={[...items]}>{(item) => <ItemView key={item.id} item={item} />}</Static>;
});
