/**
 * Thin builders over the protobufjs-generated ONNX classes of `onnx-proto` (ONNX 1.10 schema).
 *
 * Everything here produces plain `I*Proto` objects; `encodeModel` serialises them. protobufjs
 * writes fields in schema order and repeated fields in array order, so the same objects always
 * encode to the same bytes (the exporter relies on that for byte-identical output).
 */
import onnxProto from "onnx-proto";
import type { onnx as O } from "onnx-proto";

const { onnx } = onnxProto;

export type NodeProto = O.INodeProto;
export type GraphProto = O.IGraphProto;
export type TensorProto = O.ITensorProto;
export type ValueInfoProto = O.IValueInfoProto;
export type ModelProto = O.IModelProto;
export type AttributeProto = O.IAttributeProto;

/** TensorProto.DataType values used by the exporter. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;
export type ElemType = (typeof DataType)[keyof typeof DataType];

/** An attribute value: numbers are INT when integral and `float` is not asked for. */
export type AttrValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly string: string }
  | { readonly graph: GraphProto }
  | { readonly tensor: TensorProto };

const AttrType = onnx.AttributeProto.AttributeType;

export function attribute(name: string, value: AttrValue): AttributeProto {
  if ("int" in value) return { name, type: AttrType.INT, i: value.int };
  if ("float" in value) return { name, type: AttrType.FLOAT, f: value.float };
  if ("ints" in value) return { name, type: AttrType.INTS, ints: [...value.ints] };
  if ("string" in value) return { name, type: AttrType.STRING, s: new TextEncoder().encode(value.string) };
  if ("graph" in value) return { name, type: AttrType.GRAPH, g: value.graph };
  return { name, type: AttrType.TENSOR, t: value.tensor };
}

/**
 * One node. Attributes are emitted in the order given (callers pass them in a fixed order, so
 * output is deterministic).
 */
export function node(opType: string, name: string, inputs: readonly string[], outputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}): NodeProto {
  return {
    opType,
    name,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
  };
}

/** A float32 tensor stored as little-endian raw bytes. */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`internal error: tensor ${name} has ${data.length} values for dims [${dims.join(", ")}]`);
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytes };
}

/** An int64 tensor stored as little-endian raw bytes. */
export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): TensorProto {
  const bytes = new Uint8Array(data.length * 8);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: bytes };
}

/** A dimension: a number is fixed, a string is symbolic (e.g. "N" for the batch). */
export type Dim = number | string;

export function valueInfo(name: string, elemType: ElemType, shape: readonly Dim[], docString?: string): ValueInfoProto {
  const dim = shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return {
    name,
    type: { tensorType: { elemType, shape: { dim } } },
    ...(docString ? { docString } : {}),
  };
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function decodeModel(bytes: Uint8Array): O.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
