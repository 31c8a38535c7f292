/**
 * Loading build/ring.wasm and moving arrays in and out of its memory.
 *
 * The module is compiled synchronously on first use. Its memory is laid out
 * per call by a bump allocator here: inputs, output and scratch are placed from
 * the module's heap base upward, the memory grows when a call needs more, and
 * the next call starts again from the base (nothing outlives a call), except
 * resident operands: a large input array passed again (the same array, as a
 * plan's weights are from run to run) is kept in memory below the base, so
 * later calls read it where it lies instead of copying it in (a dense layer's
 * weights are 41 MB, copied several times per run otherwise). Ring tensors are
 * immutable, so the kept copy stays right; arrays that died are dropped when
 * the resident space is full, and all of them when the instance is replaced.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ErrorCode, TsyftError } from "../core/errors";
import { timed } from "../core/profiler";
import { findPackageRoot } from "../core/package-root";

/** The functions build/ring.wasm exports (see src/ring/wasm/). Pointers are byte offsets. */
export interface RingWasmExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  add(a: number, b: number, out: number, n: number): void;
  sub(a: number, b: number, out: number, n: number): void;
  mul(a: number, b: number, out: number, n: number): void;
  xor(a: number, b: number, out: number, n: number): void;
  and(a: number, b: number, out: number, n: number): void;
  addScalar(a: number, k: bigint, out: number, n: number): void;
  rsubScalar(a: number, k: bigint, out: number, n: number): void;
  mulScalar(a: number, k: bigint, out: number, n: number): void;
  xorScalar(a: number, k: bigint, out: number, n: number): void;
  andScalar(a: number, k: bigint, out: number, n: number): void;
  neg(a: number, out: number, n: number): void;
  not(a: number, out: number, n: number): void;
  shr(a: number, bits: number, out: number, n: number): void;
  shrLogical(a: number, bits: number, out: number, n: number): void;
  shl(a: number, bits: number, out: number, n: number): void;
  divFloor(a: number, d: bigint, out: number, n: number): void;
  matmul(
    a: number,
    b: number,
    c: number,
    batch: number,
    m: number,
    k: number,
    n: number,
    aStride: number,
    bStride: number,
    scratch: number,
  ): void;
  im2col(
    x: number,
    out: number,
    batch: number,
    h: number,
    w: number,
    c: number,
    kh: number,
    kw: number,
    strideH: number,
    strideW: number,
    dilationH: number,
    dilationW: number,
    padTop: number,
    padLeft: number,
    outH: number,
    outW: number,
    padValue: bigint,
  ): void;
  sumAxis(x: number, out: number, outer: number, r: number, inner: number): void;
  shlXor(src: number, shift: number, mask: number, out: number, n: number): void;
  /** c = 0: no c. */
  andCombine(
    e0: number,
    e1: number,
    f0: number,
    f1: number,
    a: number,
    b: number,
    c: number,
    product: bigint,
    out: number,
    n: number,
  ): void;
}

/** The slice of the WebAssembly JS API used here (the project's lib settings omit its types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;
const ALIGN = 16;
const WASM_PATH = path.join("build", "ring.wasm");

/** The directory holding tsyft's package.json, found by walking up from this file. */
export const packageRoot = findPackageRoot;

/** Where build/ring.wasm is expected. */
export function wasmPath(): string {
  const root = packageRoot();
  return root === undefined ? path.resolve(WASM_PATH) : path.join(root, WASM_PATH);
}

/**
 * Linear memory can only grow; past this size an instance is dropped after its
 * call and a fresh one (same compiled module) serves the next call.
 */
const RETAIN_BYTES = 512 * 1024 * 1024;

/** Inputs at least this large may become resident (smaller ones copy in about as fast as they are looked up). */
const RESIDENT_MIN_BYTES = 1 << 20;
/** Room for resident operands, at most. */
const RESIDENT_BYTES = 160 * 1024 * 1024;

/** A resident operand: where its copy lies, and the array it copies (held weakly: the array may die). */
interface Resident {
  ptr: number;
  bytes: number;
  array: WeakRef<BigInt64Array>;
}

/** One instance of the ring module, with a per-call bump allocator over its memory. */
export class RingWasm {
  private instance: RingWasmExports;
  private readonly module: object;
  private readonly heapBase: number;
  /** Where each call's allocations start: above the resident operands. */
  private base: number;
  private top: number;
  /** Large inputs seen once: a second call with the same array makes it resident. */
  private seen = new WeakSet<BigInt64Array>();
  private residents = new WeakMap<BigInt64Array, Resident>();
  /** The resident operands in memory order (for compaction). */
  private residentList: Resident[] = [];

  constructor(
    module: object,
    private readonly retainBytes: number = RETAIN_BYTES,
    private readonly residentBytes: number = RESIDENT_BYTES,
  ) {
    this.module = module;
    this.instance = instantiate(module);
    this.heapBase = align(this.instance.heapBase());
    this.base = this.heapBase;
    this.top = this.base;
  }

  /** The current instance's exports (the instance may be replaced between calls). */
  get exports(): RingWasmExports {
    return this.instance;
  }

  /** Compiles and instantiates build/ring.wasm; throws a TsyftError when it is missing. */
  static load(file: string = wasmPath(), retainBytes?: number, residentBytes?: number): RingWasm {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (cause) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Ring kernels: expected the compiled WebAssembly at ${file}, but it cannot be read. ` +
          `Run \`npm run build:wasm\` in the tsyft directory, or use the JS kernels with ` +
          `withConfig({ ringKernels: "js" }, ...).`,
        { path: file },
        { cause },
      );
    }
    return new RingWasm(new wasmApi.Module(bytes), retainBytes, residentBytes);
  }

  /**
   * Runs one kernel call: copies `inputs` in, reserves `outLength` elements of output
   * (placed over input `outOver` when given, which elementwise kernels allow) and
   * `scratchLength` elements of scratch, calls `call`, and returns a copy of the output.
   */
  call(
    inputs: readonly BigInt64Array[],
    outLength: number,
    call: (inputPtrs: number[], outPtr: number, scratchPtr: number) => void,
    options: { outOver?: number; scratchLength?: number } = {},
  ): BigInt64Array {
    // Admitting one may move the others (compaction): look them all up after.
    for (const a of inputs) this.admit(a);
    const resident = inputs.map((a) => this.residents.get(a)?.ptr);
    this.top = this.base;
    const inputPtrs = inputs.map((a, i) => resident[i] ?? this.alloc(a.length));
    // Never write over a resident operand: the output then gets room of its own.
    const overInput = options.outOver !== undefined && resident[options.outOver] === undefined;
    const outPtr = overInput ? inputPtrs[options.outOver!]! : this.alloc(outLength);
    const scratchPtr = this.alloc(options.scratchLength ?? 0);
    this.reserve(this.top);
    const buffer = this.exports.memory.buffer;
    timed("wasm.copy-in", () =>
      inputs.forEach((a, i) => resident[i] === undefined && new BigInt64Array(buffer, inputPtrs[i], a.length).set(a)),
    );
    call(inputPtrs, outPtr, scratchPtr);
    const after = this.exports.memory.buffer; // the same buffer: kernels never grow memory
    const result = timed("wasm.copy-out", () => new BigInt64Array(after.slice(outPtr, outPtr + outLength * 8)));
    if (after.byteLength > this.retainBytes) this.replaceInstance();
    return result;
  }

  /** Bytes held by resident operands now. */
  get residentHeld(): number {
    return this.base - this.heapBase;
  }

  /**
   * Makes `array` resident when it is large and passed a second time: it is
   * copied below the base once, when it fits in the resident space (after
   * dropping the copies of arrays that died).
   */
  private admit(array: BigInt64Array): void {
    const bytes = array.length * 8;
    if (bytes < RESIDENT_MIN_BYTES || this.residents.has(array)) return;
    if (!this.seen.has(array)) {
      this.seen.add(array);
      return;
    }
    if (this.base + bytes - this.heapBase > this.residentBytes) this.compactResidents();
    if (this.base + bytes - this.heapBase > this.residentBytes) return;
    const ptr = this.base;
    this.reserve(align(ptr + bytes));
    timed("wasm.copy-in", () => new BigInt64Array(this.exports.memory.buffer, ptr, array.length).set(array));
    const entry: Resident = { ptr, bytes, array: new WeakRef(array) };
    this.residents.set(array, entry);
    this.residentList.push(entry);
    this.base = align(ptr + bytes);
  }

  /** Drops the copies of arrays that died and moves the others down, in order. */
  private compactResidents(): void {
    const memory = new Uint8Array(this.exports.memory.buffer);
    let at = this.heapBase;
    this.residentList = this.residentList.filter((entry) => {
      if (entry.array.deref() === undefined) return false;
      if (entry.ptr !== at) memory.copyWithin(at, entry.ptr, entry.ptr + entry.bytes);
      entry.ptr = at;
      at = align(at + entry.bytes);
      return true;
    });
    this.base = at;
  }

  /** A fresh instance (same compiled module): its memory starts small again, with nothing resident. */
  private replaceInstance(): void {
    this.instance = instantiate(this.module);
    this.base = this.heapBase;
    this.seen = new WeakSet();
    this.residents = new WeakMap();
    this.residentList = [];
  }

  /**
   * Lays out regions of `regionBytes` each (16-byte aligned) from the heap
   * base, growing the memory as needed, and runs `fn` with their offsets and
   * the memory's buffer: for kernels that fill memory themselves and hand
   * views of it to other code (a cipher) before they return. Nothing outlives
   * the call, and `fn` must not run other ring kernels meanwhile.
   */
  withMemory<T>(regionBytes: readonly number[], fn: (ptrs: number[], buffer: ArrayBuffer) => T): T {
    this.top = this.base;
    const ptrs = regionBytes.map((bytes) => this.alloc(Math.ceil(bytes / 8)));
    this.reserve(this.top);
    const buffer = this.exports.memory.buffer;
    const result = fn(ptrs, buffer);
    if (buffer.byteLength > this.retainBytes) this.replaceInstance();
    return result;
  }

  /** Bytes of linear memory held now (grows; a fresh instance replaces one past the retain limit). */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  private alloc(elements: number): number {
    const ptr = this.top;
    this.top = align(ptr + elements * 8);
    return ptr;
  }

  private reserve(bytes: number): void {
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    try {
      memory.grow(pages);
    } catch (cause) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Ring kernels: a call needs ${bytes} bytes of WebAssembly memory, more than can be allocated ` +
          `(have ${have}). Split the op into smaller tensors.`,
        { bytes },
        { cause },
      );
    }
  }
}

function instantiate(module: object): RingWasmExports {
  return new wasmApi.Instance(module, {}).exports as RingWasmExports;
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
