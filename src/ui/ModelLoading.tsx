import { Box, Text } from 'ink';
import { downloadLine } from './format.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { Spinner } from './Spinner.js';

export interface DownloadState {
  file: string;
  loaded: number;
  total: number;
  bytesPerSecond?: number;
}

export interface LoadingState {
  modelRef: string;
  /** Files being downloaded from the hub, in the order they started. */
  downloads: DownloadState[];
  /** The file being read from disk, once downloads are done. */
  loadingFile: string | null;
}

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
