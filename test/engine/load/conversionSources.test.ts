// Which file each of Parley's graphs is built from (pure: conversionSources.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSources, isExactSource, pickSource, precisionFor, sourceOrder } from '../../../src/engine/load/conversionSources.js';

const folder =
  (...files: string[]) =>
  (file: string): boolean =>
    files.includes(file);

describe('conversion sources', () => {
  test('fp32, then fp16, then the same scheme, then the other quantized files; fp32 only from a float file', () => {
    assert.deepEqual(sourceOrder('fp32'), ['fp32', 'fp16']);
    assert.deepEqual(sourceOrder('q8'), ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16']);
    assert.deepEqual(sourceOrder('q4'), ['fp32', 'fp16', 'q4', 'q4f16', 'q8', 'int8', 'uint8']);
  });

  test('the best file present wins, under either naming', () => {
    const all = folder('onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx', 'onnx/model_q4f16.onnx');
    for (const dtype of ['fp32', 'q8', 'q4'] as const) assert.deepEqual(pickSource(dtype, all), { file: 'onnx/model.onnx', dtype: 'fp32' });
    const smol = folder('onnx/model_fp16.onnx', 'onnx/model_q4.onnx');
    assert.equal(pickSource('q4', smol)?.file, 'onnx/model_fp16.onnx');
    const quantized = folder('onnx/model_q4f16.onnx', 'onnx/decoder_model_merged_quantized.onnx');
    assert.deepEqual(pickSource('q4', quantized), { file: 'onnx/model_q4f16.onnx', dtype: 'q4f16' });
    assert.deepEqual(pickSource('q8', quantized), { file: 'onnx/decoder_model_merged_quantized.onnx', dtype: 'q8' });
    assert.equal(pickSource('fp32', quantized), null);
    assert.equal(pickSource('q8', folder()), null);
  });

  test('no dtype chosen: the default file in its nearest precision; only fp32 is an exact source', () => {
    assert.deepEqual((['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16'] as const).map(precisionFor), [
      'fp32',
      'fp32',
      'q8',
      'q8',
      'q8',
      'q4',
      'q4',
    ]);
    assert.deepEqual((['fp32', 'fp16', 'q4'] as const).map(isExactSource), [true, false, false]);
    assert.equal(describeSources('fp32'), 'model.onnx, model_fp16.onnx');
  });
});
