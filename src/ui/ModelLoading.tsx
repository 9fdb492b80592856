import { Box, Text } from 'ink';
import type { LoadingState } from '../chat/view/loadingProgress.js';
import { downloadLine } from '../text/format.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { Spinner } from './Spinner.js';

/** A bar per downloaded file, then a spinner while the model is read into memory. */
export function ModelLoading({ state, columns }: { state: LoadingState; columns: number }) {
  const label = `loading ${state.modelRef}${state.loadingFile ? ` (${state.loadingFile})` : ''}…`;
  return (
    <Box flexDirection="column">
      {state.downloads.map((d) => (
        <Text key={d.file} wrap="truncate-end">
          {sanitizeForTerminal(downloadLine(d.file, d.loaded, d.total, columns, d.bytesPerSecond))}
        </Text>
      ))}
      <Spinner label={sanitizeForTerminal(label)} />
    </Box>
  );
}
