import { memo } from 'react';
import { Box, Text } from 'ink';
import { Spinner } from './Spinner.js';
import { REPLY_INDENT } from '../chat/view/replyLines.js';
import { AssistantText, StyledLines } from './Transcript.js';
import { useTheme } from './theme.js';

/**
 * The reply being generated, under the transcript; `text` grows once per frame. `lines`:
 * the open part of a reply shown as Markdown, drawn in place of `text`. While messages are
 * queued, Esc takes them back first, so the hint about stopping gives way to the queue's.
 * Memoised, as the rest of the screen: a frame re-renders only what changed.
 */
export const LiveReply = memo(function LiveReply({
  text,
  lines,
  waitingForModel,
  restarting = false,
  queued = false,
}: {
  text: string;
  lines?: readonly string[] | undefined;
  waitingForModel: boolean;
  restarting?: boolean;
  queued?: boolean;
}) {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      {lines ? lines.length > 0 ? <StyledLines lines={lines} /> : null : text ? <AssistantText text={text} interrupted={false} /> : null}
      <Box paddingLeft={REPLY_INDENT}>
        {text ? (
          queued ? null : (
            <Text color={theme.muted}>Esc stops the reply</Text>
          )
        ) : (
          <Spinner
            label={
              restarting
                ? 'the engine is restarting… (Esc cancels)'
                : waitingForModel
                  ? 'waiting for the model to load… (Esc cancels)'
                  : queued
                    ? 'thinking…'
                    : 'thinking… (Esc stops)'
            }
          />
        )}
      </Box>
    </Box>
  );
});
