import path from 'node:path';
import { endpointLabel, isEndpointRef } from '../engine/remote/endpointRef.js';

/** A short name for the status bar: a folder's last part, else the ref as typed. */
export function modelLabel(ref: string): string {
  if (isEndpointRef(ref)) return endpointLabel(ref);
  const looksLikePath = ref.startsWith('.') || ref.startsWith('/') || ref.startsWith('~') || ref.includes('\\');
  return looksLikePath ? path.basename(ref.replace(/[\\/]+$/, '')) || ref : ref;
}
