// Builds ONNX ModelProto messages (field numbers from onnx/onnx.proto) with a small
// graph-building API: named inputs/outputs, initializers whose bytes may be produced
// lazily at write time, and nodes whose outputs get generated unique names.

import { type LazyBytes, ProtoMessage } from './protobufWriter.js';

/** TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** A fixed size or a symbolic dimension name. */
export type Dim = number | string;

export type Attribute = { type: 'int'; value: number } | { type: 'float'; value: number } | { type: 'ints'; value: readonly number[] };

export const int = (value: number): Attribute => ({ type: 'int', value });
export const float = (value: number): Attribute => ({ type: 'float', value });
export const ints = (value: readonly number[]): Attribute => ({ type: 'ints', value });

export interface NodeOptions {
  attributes?: Record<string, Attribute>;
  domain?: string;
  /** Explicit output names (graph outputs; '' skips an optional output); otherwise generated ones. */
  outputs?: readonly string[];
  /** How many generated outputs when `outputs` is not given. */
  outputCount?: number;
}

// AttributeProto.AttributeType
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

const IR_VERSION = 8; // the IR version that goes with opset 17

export class GraphBuilder {
  private readonly nodes: ProtoMessage[] = [];
  private readonly initializers: ProtoMessage[] = [];
  private readonly inputs: ProtoMessage[] = [];
  private readonly outputs: ProtoMessage[] = [];
  private readonly constants = new Map<string, string>();
  private readonly usedDomains = new Set<string>();
  private nextId = 0;

  input(name: string, type: DataType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: DataType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  initializer(name: string, type: DataType, dims: readonly number[], data: Uint8Array | LazyBytes): string {
    const tensor = new ProtoMessage();
    for (const dim of dims) tensor.varint(1, dim);
    tensor.varint(2, type).string(8, name);
    if (data instanceof Uint8Array) tensor.bytes(9, data);
    else tensor.lazyBytes(9, data);
    this.initializers.push(tensor);
    return name;
  }

  /** A small int64 tensor, shared by every use of the same value. */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(DataType.INT64, dims, values, new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer));
  }

  /** A float32 scalar, shared by every use of the same value. */
  scalar(value: number): string {
    return this.constant(DataType.FLOAT, [], [value], new Uint8Array(new Float32Array([value]).buffer));
  }

  /** A name no other value in the graph has. */
  freshName(hint: string): string {
    return `${hint}_${this.nextId++}`;
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    const outputs = options.outputs ? [...options.outputs] : Array.from({ length: options.outputCount ?? 1 }, () => this.freshName(opType));
    const node = new ProtoMessage();
    for (const input of inputs) node.string(1, input);
    for (const output of outputs) node.string(2, output);
    node.string(3, this.freshName(`${opType}_node`)).string(4, opType);
    for (const [name, attribute] of Object.entries(options.attributes ?? {})) {
      node.message(5, attributeProto(name, attribute));
    }
    if (options.domain) {
      node.string(7, options.domain);
      this.usedDomains.add(options.domain);
    }
    this.nodes.push(node);
    return outputs;
  }

  /** Adds a node with a single output and returns its name. */
  op(opType: string, inputs: readonly string[], options: NodeOptions = {}): string {
    const [output] = this.node(opType, inputs, options);
    return output;
  }

  /** The ModelProto, importing the default domain at `opset` and version 1 of any other domain used. */
  toModel(graphName: string, opset: number): ProtoMessage {
    const graph = new ProtoMessage();
    for (const node of this.nodes) graph.message(1, node);
    graph.string(2, graphName);
    for (const tensor of this.initializers) graph.message(5, tensor);
    for (const input of this.inputs) graph.message(11, input);
    for (const output of this.outputs) graph.message(12, output);

    const model = new ProtoMessage().varint(1, IR_VERSION).string(2, 'parley').message(7, graph);
    model.message(8, new ProtoMessage().string(1, '').varint(2, opset));
    for (const domain of [...this.usedDomains].sort()) {
      model.message(8, new ProtoMessage().string(1, domain).varint(2, 1));
    }
    return model;
  }

  private constant(type: DataType, dims: readonly number[], values: readonly number[], bytes: Uint8Array): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (name === undefined) {
      name = this.initializer(`const_${this.constants.size}`, type, dims, bytes);
      this.constants.set(key, name);
    }
    return name;
  }
}

function valueInfo(name: string, type: DataType, dims: readonly Dim[]): ProtoMessage {
  const shape = new ProtoMessage();
  for (const dim of dims) {
    const dimension = new ProtoMessage();
    if (typeof dim === 'number') dimension.varint(1, dim);
    else dimension.string(2, dim);
    shape.message(1, dimension);
  }
  const tensorType = new ProtoMessage().varint(1, type).message(2, shape);
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}

function attributeProto(name: string, attribute: Attribute): ProtoMessage {
  const proto = new ProtoMessage().string(1, name);
  switch (attribute.type) {
    case 'int':
      return proto.varint(3, attribute.value).varint(20, ATTRIBUTE_INT);
    case 'float':
      return proto.float(2, attribute.value).varint(20, ATTRIBUTE_FLOAT);
    case 'ints':
      for (const value of attribute.value) proto.varint(8, value);
      return proto.varint(20, ATTRIBUTE_INTS);
  }
}
