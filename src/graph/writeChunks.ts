import { open } from 'node:fs/promises';

const BUFFER_BYTES = 1 << 20;

/**
 * Writes a stream of chunks to a file. The protobuf encoder yields thousands of tiny
 * chunks (tags, lengths) between huge ones (tensor bytes): small ones are gathered into
 * one buffer, big ones go to the file as they are, without a copy.
 */
export async function writeChunks(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const file = await open(path, 'w');
  try {
    const buffer = new Uint8Array(BUFFER_BYTES);
    let used = 0;
    const flush = async (): Promise<void> => {
      if (used > 0) await writeAll(buffer.subarray(0, used));
      used = 0;
    };
    const writeAll = async (bytes: Uint8Array): Promise<void> => {
      for (let offset = 0; offset < bytes.byteLength;) {
        const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset);
        offset += bytesWritten;
      }
    };
    for (const chunk of chunks) {
      if (used + chunk.byteLength <= BUFFER_BYTES) {
        buffer.set(chunk, used);
        used += chunk.byteLength;
      } else {
        await flush();
        if (chunk.byteLength < BUFFER_BYTES) {
          buffer.set(chunk, 0);
          used = chunk.byteLength;
        } else {
          await writeAll(chunk);
        }
      }
    }
    await flush();
  } finally {
    await file.close();
  }
}
