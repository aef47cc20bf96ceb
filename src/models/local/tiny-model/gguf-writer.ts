/**
 * A small writer for GGUF v3 files: a header, metadata key/values and tensors, laid out as
 * llama.cpp reads them (little-endian, every tensor's data aligned to `general.alignment`, 32).
 * It writes what Hataraku's tests and benches need (scalars, strings, arrays of them, f32 and
 * f16 tensors), not quantized types.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** A metadata value, tagged with its GGUF type. */
export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string-array'; value: readonly string[] }
  | { type: 'f32-array'; value: readonly number[] }
  | { type: 'i32-array'; value: readonly number[] };

export interface GgufTensor {
  name: string;
  /** Dimensions in GGML order: the first one varies fastest (a `rows × columns` matrix is `[columns, rows]`). */
  dimensions: readonly number[];
  /** `f16` halves the file; norms and other 1-D tensors should stay `f32`. */
  type: 'f32' | 'f16';
  /** Values in GGML order, as many as the product of the dimensions. */
  values: Float32Array;
}

const ALIGNMENT = 32;
const valueTypeCode = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const tensorTypeCode = { f32: 0, f16: 1 } as const;

/** Write a GGUF v3 file at `path`. */
export function writeGguf(path: string, metadata: Record<string, GgufValue>, tensors: readonly GgufTensor[]): void {
  const header = new ByteBuffer();
  header.bytes(Buffer.from('GGUF', 'ascii'));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    header.string(key);
    writeValue(header, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    const count = tensor.dimensions.reduce((product, dimension) => product * dimension, 1);
    if (count !== tensor.values.length) {
      throw new RangeError(
        `tensor ${tensor.name}: dimensions hold ${count} values but ${tensor.values.length} were given`,
      );
    }
    header.string(tensor.name);
    header.u32(tensor.dimensions.length);
    for (const dimension of tensor.dimensions) header.u64(dimension);
    header.u32(tensorTypeCode[tensor.type]);
    header.u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + count * (tensor.type === 'f32' ? 4 : 2));
  }
  header.bytes(Buffer.alloc(alignUp(header.length) - header.length));

  const file = openSync(path, 'w');
  try {
    writeSync(file, header.toBuffer());
    let written = 0;
    for (const [index, tensor] of tensors.entries()) {
      const start = offsets[index] ?? 0;
      if (start > written) writeSync(file, Buffer.alloc(start - written));
      const data = tensor.type === 'f32' ? float32Bytes(tensor.values) : float16Bytes(tensor.values);
      writeSync(file, data);
      written = start + data.length;
    }
    if (alignUp(written) > written) writeSync(file, Buffer.alloc(alignUp(written) - written));
  } finally {
    closeSync(file);
  }
}

function writeValue(buffer: ByteBuffer, entry: GgufValue): void {
  switch (entry.type) {
    case 'u32':
      buffer.u32(valueTypeCode.u32);
      buffer.u32(entry.value);
      return;
    case 'i32':
      buffer.u32(valueTypeCode.i32);
      buffer.i32(entry.value);
      return;
    case 'f32':
      buffer.u32(valueTypeCode.f32);
      buffer.f32(entry.value);
      return;
    case 'bool':
      buffer.u32(valueTypeCode.bool);
      buffer.bytes(Buffer.from([entry.value ? 1 : 0]));
      return;
    case 'string':
      buffer.u32(valueTypeCode.string);
      buffer.string(entry.value);
      return;
    case 'string-array':
      buffer.u32(valueTypeCode.array);
      buffer.u32(valueTypeCode.string);
      buffer.u64(entry.value.length);
      for (const item of entry.value) buffer.string(item);
      return;
    case 'f32-array':
      buffer.u32(valueTypeCode.array);
      buffer.u32(valueTypeCode.f32);
      buffer.u64(entry.value.length);
      for (const item of entry.value) buffer.f32(item);
      return;
    case 'i32-array':
      buffer.u32(valueTypeCode.array);
      buffer.u32(valueTypeCode.i32);
      buffer.u64(entry.value.length);
      for (const item of entry.value) buffer.i32(item);
      return;
  }
}

function alignUp(value: number): number {
  return Math.ceil(value / ALIGNMENT) * ALIGNMENT;
}

function float32Bytes(values: Float32Array): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  for (let index = 0; index < values.length; index++) bytes.writeFloatLE(values[index] ?? 0, index * 4);
  return bytes;
}

function float16Bytes(values: Float32Array): Buffer {
  const bytes = Buffer.alloc(values.length * 2);
  for (let index = 0; index < values.length; index++) bytes.writeUInt16LE(toHalf(values[index] ?? 0), index * 2);
  return bytes;
}

/** IEEE 754 half precision, rounding toward zero (ample for random weights). */
function toHalf(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  const bits = view.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7c00;
  return sign | (exponent << 10) | (mantissa >>> 13);
}

/** Grows as values are appended; little-endian throughout, as GGUF is. */
class ByteBuffer {
  private chunks: Buffer[] = [];
  length = 0;

  bytes(data: Buffer): void {
    this.chunks.push(data);
    this.length += data.length;
  }
  u32(value: number): void {
    const data = Buffer.alloc(4);
    data.writeUInt32LE(value);
    this.bytes(data);
  }
  i32(value: number): void {
    const data = Buffer.alloc(4);
    data.writeInt32LE(value);
    this.bytes(data);
  }
  u64(value: number): void {
    const data = Buffer.alloc(8);
    data.writeBigUInt64LE(BigInt(value));
    this.bytes(data);
  }
  f32(value: number): void {
    const data = Buffer.alloc(4);
    data.writeFloatLE(value);
    this.bytes(data);
  }
  string(value: string): void {
    const data = Buffer.from(value, 'utf8');
    this.u64(data.length);
    this.bytes(data);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
