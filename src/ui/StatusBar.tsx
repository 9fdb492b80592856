import { Box, Text } from 'ink';
import type { StatusInfo } from '../chat/view/statusInfo.js';
import { formatNumber } from '../text/format.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { useTheme } from './theme.js';

export interface StatusSegment {
  text: string;
  tone?: 'warning';
}

export function statusSegments(info: StatusInfo): StatusSegment[] {
  const segments: StatusSegment[] = [];
  const where = info.endpointHost ? `on ${info.endpointHost}` : (info.dtype ?? '');
  segments.push({ text: info.model === null ? 'no model' : `${info.model} ${where}`.trim() });
  if (info.model !== null && info.description) segments.push({ text: `${info.model}: ${info.description}` });
  if (info.randomWeights) segments.push({ text: 'random weights: output is noise', tone: 'warning' });
  if (info.tokensUsed !== null && info.contextLength !== null) {
    segments.push({ text: `${info.tokensUsed}/${info.contextLength} tokens` });
  }
  const { temperature, topK, topP } = info.params;
  segments.push({ text: `temp ${formatNumber(temperature, 2)} top-k ${topK} top-p ${formatNumber(topP, 2)}` });
  segments.push({ text: `session ${info.sessionName}` });
  if (info.unsaved) segments.push({ text: 'not saved', tone: 'warning' });
  if (info.tokensPerSecond !== null) segments.push({ text: `${info.tokensPerSecond.toFixed(1)} tok/s` });
  if (info.turnsOutOfContext > 0) {
    const n = info.turnsOutOfContext;
    segments.push({ text: `${n} earlier turn${n === 1 ? '' : 's'} out of context`, tone: 'warning' });
  }
  return segments;
}

export function StatusBar({ info }: { info: StatusInfo }) {
  const theme = useTheme();
  const segments = statusSegments(info);
  return (
    <Box flexWrap="wrap" columnGap={1}>
      {segments.map((segment, i) => (
        <Text key={segment.text} color={segment.tone === 'warning' ? theme.warning : theme.muted} wrap="truncate-end">
          {sanitizeForTerminal(segment.text)}
          {i < segments.length - 1 ? ' ·' : ''}
        </Text>
      ))}
    </Box>
  );
}
