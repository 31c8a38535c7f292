import { describe, expect, it } from "vitest";
import { ErrorCode, ProtocolError, TsyftError } from "../../src/core/errors";
import * as ring from "../../src/ring";
import { shapes } from "../../src/ring";
import { RingWasm, packageRoot, wasmPath } from "../../src/ring/wasm-module";

/** Runs `fn`, expecting a ProtocolError with `code` whose message matches every pattern. */
function expectProtocolError(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect(caught).toBeInstanceOf(TsyftError);
  const error = caught as ProtocolError;
  expect(error.code).toBe(code);
  for (const p of patterns) expect(error.message).toMatch(p);
}

const SHAPE = ErrorCode.SHAPE_MISMATCH;
const ARG = ErrorCode.INVALID_ARGUMENT;

describe("errors: shapes disagree", () => {
  it("broadcasting names both shapes and what to do", () => {
    expectProtocolError(() => ring.add(ring.zeros([2, 3]), ring.zeros([4])), SHAPE, /\[2, 3\]/, /\[4\]/, /broadcastTo/);
    expectProtocolError(() => ring.xor(ring.zeros([2, 3]), ring.zeros([3, 2])), SHAPE, /^xor:/, /3 and 2|2 and 3/);
    expectProtocolError(() => ring.broadcastTo(ring.zeros([2]), [3]), SHAPE, /\[2\] to \[3\]/);
  });

  it("matmul names both shapes", () => {
    expectProtocolError(
      () => ring.matmul(ring.zeros([2, 3]), ring.zeros([4, 5])),
      SHAPE,
      /\[2, 3\] x \[4, 5\]/,
      /got 3 and 4/,
    );
    expectProtocolError(
      () => ring.matmul(ring.zeros([3]), ring.zeros([3, 2])),
      SHAPE,
      /\[3\] and \[3, 2\]/,
      /rank 2 or 3/,
    );
    expectProtocolError(() => ring.matmul(ring.zeros([2, 2, 3]), ring.zeros([3, 3, 4])), SHAPE, /batch/, /got 2 and 3/);
  });

  it("conv2d and pooling check layout, channels and window fit", () => {
    expectProtocolError(
      () => ring.conv2d(ring.zeros([4, 4, 3]), ring.zeros([3, 3, 3, 2]), { padding: "same" }),
      SHAPE,
      /NHWC/,
      /\[4, 4, 3\]/,
    );
    expectProtocolError(
      () => ring.conv2d(ring.zeros([1, 4, 4, 3]), ring.zeros([3, 3, 2, 2]), { padding: "same" }),
      SHAPE,
      /3 channels/,
      /expects 2/,
    );
    expectProtocolError(
      () => ring.conv2d(ring.zeros([1, 4, 4, 1]), ring.zeros([5, 5, 1, 1]), { padding: "valid" }),
      SHAPE,
      /does not fit/,
      /"same"/,
    );
    expectProtocolError(
      () => ring.conv2d(ring.zeros([1, 4, 4, 1]), ring.zeros([3, 3, 1]), { padding: "valid" }),
      SHAPE,
      /HWIO/,
    );
    expectProtocolError(
      () => ring.extractPatches(ring.zeros([1, 2, 2, 1]), { filterSize: [3, 3], strides: [1, 1], padding: "valid" }),
      SHAPE,
      /^extractPatches:/,
    );
  });

  it("reshape, concat, slice, fromBytes, fromInts report sizes", () => {
    expectProtocolError(() => ring.reshape(ring.zeros([2, 3]), [4, 2]), SHAPE, /6 elements/, /8 elements/);
    expectProtocolError(() => ring.reshape(ring.zeros([2, 3]), [4, -1]), SHAPE, /divide 6/);
    expectProtocolError(
      () => ring.concat([ring.zeros([2, 3]), ring.zeros([2, 4])], 0),
      SHAPE,
      /tensor 1 has shape \[2, 4\]/,
      /axis 0/,
    );
    expectProtocolError(() => ring.slice(ring.zeros([4, 5]), [3, 0], [2, 5]), SHAPE, /axis 0/, /begin \+ size <= 4/);
    expectProtocolError(() => ring.fromBytes(new Uint8Array(12), [2]), SHAPE, /needs 16 bytes/, /got 12/);
    expectProtocolError(() => ring.fromInts([1, 2, 3], [2, 2]), SHAPE, /needs 4 values/, /got 3/);
    expectProtocolError(() => ring.gather(ring.zeros([3, 2]), [3], 0), SHAPE, /index 3/, /\[0, 2\]/);
  });
});

describe("errors: bad arguments", () => {
  it("axes, permutations and reshape targets", () => {
    expectProtocolError(() => ring.sum(ring.zeros([2, 3]), 2), ARG, /axis in \[-2, 1\]/, /got 2/);
    expectProtocolError(() => ring.sum(ring.zeros([2, 3]), [0, -2]), ARG, /twice/);
    expectProtocolError(() => ring.transpose(ring.zeros([2, 3]), [0, 0]), ARG, /permutation of \[0\.\.1\]/);
    expectProtocolError(() => ring.concat([], 0), ARG, /non-empty/);
    expectProtocolError(() => ring.expandDims(ring.zeros([2]), 3), ARG, /\[-2, 1\]/);
    expectProtocolError(() => ring.reshape(ring.zeros([4]), [-1, -1]), ARG, /at most one -1/);
    expectProtocolError(() => ring.zeros([2, 1.5]), ARG, /non-negative integers/);
  });

  it("shifts, divisors, scalars and options", () => {
    expectProtocolError(() => ring.shr(ring.zeros([2]), 64), ARG, /0 to 63 bits/, /got 64/);
    expectProtocolError(() => ring.shl(ring.zeros([2]), -1), ARG, /0 to 63/);
    expectProtocolError(() => ring.divFloor(ring.zeros([2]), 0n), ARG, /positive bigint divisor/);
    expectProtocolError(() => ring.divFloor(ring.zeros([2]), 2n ** 63n), ARG, /below 2\^63/);
    expectProtocolError(() => ring.addScalar(ring.zeros([2]), 3 as unknown as bigint), ARG, /bigint scalar/);
    expectProtocolError(
      () => ring.conv2d(ring.zeros([1, 4, 4, 1]), ring.zeros([2, 2, 1, 1]), { padding: "full" as "same" }),
      ARG,
      /"same" or "valid"/,
    );
    expectProtocolError(
      () => ring.conv2d(ring.zeros([1, 4, 4, 1]), ring.zeros([2, 2, 1, 1]), { padding: "same", strides: 0 }),
      ARG,
      /strides/,
    );
    expectProtocolError(() => ring.fromInts([1.5], [1]), ARG, /integers/, /fromFloat/);
    expectProtocolError(() => ring.fromBigInts([1] as unknown as bigint[], [1]), ARG, /bigints/);
    expectProtocolError(() => ring.expand(new Uint8Array(8), [2]), ARG, /16-byte/, /of 8 bytes/);
    expectProtocolError(() => ring.expand(new Uint8Array(16), [2], -1), ARG, /stream id/);
    expectProtocolError(() => new ring.RingTensor(new BigInt64Array(3), [2, 2]), ARG, /needs 4 elements, got 3/);
  });

  it("shape inference throws the same errors without data", () => {
    expectProtocolError(() => shapes.broadcast([2, 3], [4]), SHAPE, /\[2, 3\]/);
    expectProtocolError(() => shapes.matmul([2, 3], [4, 5]), SHAPE, /\[2, 3\] x \[4, 5\]/);
    expectProtocolError(() => shapes.reshape([2, 3], [5]), SHAPE);
    expectProtocolError(
      () => shapes.pool([1, 4, 4, 1], { filterSize: [2, 2], strides: [0, 1], padding: "same" }),
      ARG,
      /strides/,
    );
  });
});

describe("the wasm module", () => {
  it("is found beside tsyft's package.json", () => {
    expect(packageRoot()).toBeDefined();
    expect(wasmPath()).toMatch(/build[\\/]ring\.wasm$/);
  });

  it("missing build/ring.wasm says to run npm run build:wasm", () => {
    let caught: unknown;
    try {
      RingWasm.load("/nonexistent/build/ring.wasm");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TsyftError);
    expect((caught as TsyftError).message).toMatch(/npm run build:wasm/);
    expect((caught as TsyftError).message).toMatch(/\/nonexistent\/build\/ring\.wasm/);
  });

  it("grows its memory for large calls and keeps working after", () => {
    const wasm = RingWasm.load();
    const before = wasm.memoryBytes;
    const n = 3_000_000;
    const a = new BigInt64Array(n).fill(3n);
    const out = wasm.call([a, a], n, ([pa, pb], po) => wasm.exports.mul(pa, pb, po, n), { outOver: 0 });
    expect(wasm.memoryBytes).toBeGreaterThan(before);
    expect(out[n - 1]).toBe(9n);
    const small = wasm.call([new BigInt64Array([5n])], 1, ([p], po) => wasm.exports.neg(p, po, 1));
    expect(small[0]).toBe(-5n);
  });

  it("keeps a large operand passed again resident, never writes over it, and copies in what does not fit", () => {
    const n = 200_000; // 1.6 MB: large enough to stay
    const wasm = RingWasm.load(undefined, undefined, 4 * 1024 * 1024);
    const w = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) - 7n);
    const add1 = (a: BigInt64Array) =>
      wasm.call([a], n, ([pa], po) => wasm.exports.addScalar(pa!, 1n, po, n), { outOver: 0 });
    const first = add1(w);
    expect(wasm.residentHeld).toBe(0); // seen once
    const second = add1(w);
    expect(wasm.residentHeld).toBeGreaterThanOrEqual(n * 8);
    // The output of an in-place kernel got room of its own: the resident copy still holds w.
    const third = add1(w);
    for (const out of [first, second, third]) {
      expect(out[0]).toBe(-6n);
      expect(out[n - 1]).toBe(BigInt(n) - 7n);
    }
    // Two more large operands: the second does not fit in 4 MB and is copied in each time, with the same results.
    const u = w.map((v) => v * 2n);
    const v = w.map((x) => x * 3n);
    for (let i = 0; i < 2; i++) {
      expect(add1(u)[5]).toBe(2n * (5n - 7n) + 1n);
      expect(add1(v)[5]).toBe(3n * (5n - 7n) + 1n);
    }
    expect(wasm.residentHeld).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(add1(w)[n - 1]).toBe(BigInt(n) - 7n);
  });

  it("replaces an instance whose memory grew past the retain limit", () => {
    const wasm = RingWasm.load(undefined, 4 * 1024 * 1024);
    const n = 1_000_000;
    const a = new BigInt64Array(n).fill(-2n);
    const out = wasm.call([a], n, ([pa], po) => wasm.exports.mulScalar(pa, 3n, po, n));
    expect(out[0]).toBe(-6n);
    expect(out[n - 1]).toBe(-6n);
    expect(wasm.memoryBytes).toBeLessThan(4 * 1024 * 1024);
    const again = wasm.call([new BigInt64Array([1n, 2n, 3n])], 3, ([p], po) => wasm.exports.shl(p, 4, po, 3));
    expect(Array.from(again)).toEqual([16n, 32n, 48n]);
  });
});
