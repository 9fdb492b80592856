// How a file's text goes into a message: a fenced block headed by the file's name, the fence
// longer than any run of backticks in the text so the file cannot close it early. The model
// sees where the file starts and ends, and which file it is.

export interface InsertedFile {
  /** The name shown to the model: the path relative to the current folder, or absolute. */
  name: string;
  text: string;
}

export function fileBlock(file: InsertedFile): string {
  const longestRun = Math.max(0, ...[...file.text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  const body = file.text.endsWith('\n') ? file.text : `${file.text}\n`;
  return `File ${file.name}:\n${fence}\n${body}${fence}`;
}

/** The message as sent: the files' blocks first, then what the user wrote about them. */
export function messageWithFiles(files: readonly InsertedFile[], text: string): string {
  return [...files.map(fileBlock), ...(text.trim() === '' ? [] : [text])].join('\n\n');
}
