// The rows of a graph's learned position table (GPT-2's `transformer.wpe.weight`, in the
// hub's exports and in Parley's own graphs), read from the ONNX file's initializer heads.
import { visitInitializers } from './onnxInitializers.js';

const POSITION_TABLE = /(^|[./_])wpe([./_]|$)/;

/** The position table's rows, or null when the graph has none (or the file cannot be walked). */
export function positionTableRows(onnxFile: string): number | null {
  let rows: number | null = null;
  visitInitializers(onnxFile, (name, dims) => {
    if (dims.length !== 2 || !POSITION_TABLE.test(name)) return false;
    rows = dims[0]!;
    return true;
  });
  return rows;
}
