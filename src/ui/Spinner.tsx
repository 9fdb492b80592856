import { useEffect, useState } from 'react';
import { Text } from 'ink';
import { useTheme } from './theme.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Each step redraws the whole live area (Ink has no partial frames): 5 a second still reads as alive. */
const STEP_MS = 200;

export function Spinner({ label }: { label: string }) {
  const theme = useTheme();
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setFrame((f) => (f + 1) % FRAMES.length), STEP_MS);
    return () => clearInterval(timer);
  }, []);
  return (
    <Text>
      <Text color={theme.accent}>{FRAMES[frame]}</Text> {label}
    </Text>
  );
}
