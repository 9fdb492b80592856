// What waits under a streaming reply: the notices that came meanwhile (printed after the
// reply once it ends, so none lands inside it) and the messages queued to go out next.
import { memo } from 'react';
import { Box, Text } from 'ink';
import type { TranscriptItem } from '../chat/view/transcriptItems.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { useTheme } from './theme.js';
import { ItemView } from './Transcript.js';

export const HeldNotices = memo(function HeldNotices({ items }: { items: readonly TranscriptItem[] }) {
  if (items.length === 0) return null;
  return (
    <Box flexDirection="column">
      {items.map((item) => (
        <ItemView key={item.id} item={item} />
      ))}
    </Box>
  );
});

/** One line per queued message: its first line, cut to the width. */
export const QueuedMessages = memo(function QueuedMessages({ queued }: { queued: readonly string[] }) {
  const theme = useTheme();
  if (queued.length === 0) return null;
  return (
    <Box flexDirection="column">
      {queued.map((text, i) => (
        <Text key={i} color={theme.muted} wrap="truncate-end">
          {`queued: ${queuedPreview(text)}`}
        </Text>
      ))}
      <Text color={theme.muted} wrap="truncate-end">
        {queued.length === 1 ? 'sent when the reply ends · Esc removes it' : 'sent one by one as replies end · Esc removes the newest'}
      </Text>
    </Box>
  );
});

/** A queued message on one line: its lines joined, control sequences stripped. */
export function queuedPreview(text: string): string {
  return sanitizeForTerminal(text)
    .replace(/\s*\n\s*/g, ' ⏎ ')
    .trim();
}
