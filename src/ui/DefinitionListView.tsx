// A definition list (/help) laid out for the terminal's width when it is printed; a resize
// prints the transcript again, laid out anew.
import { Box, Text, useStdout } from 'ink';
import { layoutDefinitions } from '../chat/view/definitionLayout.js';
import type { DefinitionSection } from '../chat/view/transcriptItems.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { useTheme } from './theme.js';

export function DefinitionListView({ sections }: { sections: readonly DefinitionSection[] }) {
  const theme = useTheme();
  const { stdout } = useStdout();
  const lines = layoutDefinitions(sections, stdout.columns || 80);
  return (
    <Box flexDirection="column" marginBottom={1}>
      {lines.map((line, i) => (
        <Text key={i} color={theme.muted} wrap="truncate-end">
          {sanitizeForTerminal(line) || ' '}
        </Text>
      ))}
    </Box>
  );
}
