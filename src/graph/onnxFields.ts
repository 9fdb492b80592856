// Field numbers of onnx/onnx.proto for the code that walks or rewrites a model's
// initializers by hand (external data, reading initializer heads without loading a graph).
export const MODEL_GRAPH = 7;
export const GRAPH_INITIALIZER = 5;
export const TENSOR_DIMS = 1;
export const TENSOR_NAME = 8;
export const TENSOR_RAW_DATA = 9;
export const TENSOR_EXTERNAL_DATA = 13;
export const TENSOR_DATA_LOCATION = 14;
/** TensorProto.DataLocation.EXTERNAL. */
export const DATA_LOCATION_EXTERNAL = 1;
/** StringStringEntryProto.key and .value. */
export const ENTRY_KEY = 1;
export const ENTRY_VALUE = 2;
