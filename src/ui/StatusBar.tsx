import { memo } from 'react';
import { Box, Text, useStdout } from 'ink';
import type { StatusInfo } from '../chat/view/statusInfo.js';
import { formatNumber } from '../text/format.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { fitStatus, type StatusSegment } from './statusFit.js';
import { useTheme } from './theme.js';

export type { StatusSegment } from './statusFit.js';

/**
 * What the status bar can show, in the order it shows it. `priority`: what goes last when
 * the width runs short (0 stays longest); `short`: the same fact in fewer columns.
 */
export function statusSegments(info: StatusInfo): StatusSegment[] {
  const segments: StatusSegment[] = [];
  const where = info.endpointHost ? `on ${info.endpointHost}` : (info.dtype ?? '');
  if (info.model === null) segments.push({ text: 'no model', priority: 0 });
  else segments.push({ text: `${info.model} ${where}`.trim(), short: info.model, priority: 0 });
  if (info.model !== null && info.description) segments.push({ text: `${info.model}: ${info.description}`, priority: 9 });
  if (info.randomWeights) segments.push({ text: 'random weights: output is noise', short: 'random weights', tone: 'warning', priority: 1 });
  if (info.tokensUsed !== null && info.contextLength !== null) {
    segments.push({
      text: `${info.tokensUsed}/${info.contextLength} tokens`,
      short: `${info.tokensUsed}/${info.contextLength}`,
      priority: 2,
    });
  }
  const { temperature, topK, topP } = info.params;
  segments.push({
    text: `temp ${formatNumber(temperature, 2)} top-k ${topK} top-p ${formatNumber(topP, 2)}`,
    short: `temp ${formatNumber(temperature, 2)}`,
    priority: 5,
  });
  segments.push({ text: `session ${info.sessionName}`, priority: 7 });
  if (info.unsaved) segments.push({ text: 'not saved', tone: 'warning', priority: 1 });
  if (info.tokensPerSecond !== null) {
    segments.push({ text: `${info.tokensPerSecond.toFixed(1)} tok/s`, short: `${Math.round(info.tokensPerSecond)} tok/s`, priority: 6 });
  }
  if (info.turnsOutOfContext > 0) {
    const n = info.turnsOutOfContext;
    segments.push({
      text: `${n} earlier turn${n === 1 ? '' : 's'} out of context`,
      short: `${n} out of context`,
      tone: 'warning',
      priority: 3,
    });
  }
  return segments;
}

/**
 * One line below 80 columns, two at most above: what does not fit goes, least needed first.
 * Memoised: `info` is the same object until a figure in it changes (not on a reply's frames).
 */
export const StatusBar = memo(function StatusBar({ info }: { info: StatusInfo }) {
  const theme = useTheme();
  const { stdout } = useStdout();
  const lines = fitStatus(statusSegments(info), stdout.columns || 80);
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line.map((segment, j) => (
            <Text key={segment.text} color={segment.tone === 'warning' ? theme.warning : theme.muted}>
              {sanitizeForTerminal(segment.text)}
              {j < line.length - 1 ? ' · ' : ''}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
});
