/**
 * Elementwise ops mod 2^64: arithmetic (for arithmetic shares) and bitwise ops
 * (for binary shares). Two operands broadcast as in numpy; equal shapes and a
 * single-element operand go straight to the kernels, other broadcasts are
 * expanded with broadcastTo first.
 */
import { kernels, type RingKernels } from "./kernels";
import { broadcastTo } from "./shape-ops";
import { broadcast } from "./broadcast-shapes";
import { argumentError, describe, size } from "./shape-basics";
import { RingTensor } from "./tensor";

type BinaryKernel = (k: RingKernels, a: BigInt64Array, b: BigInt64Array) => BigInt64Array;

function binary(op: string, a: RingTensor, b: RingTensor, run: BinaryKernel): RingTensor {
  checkTensor(a, op);
  checkTensor(b, op);
  const shape = broadcast(a.shape, b.shape, op);
  const n = size(shape);
  const x = a.size === n || a.size === 1 ? a : broadcastTo(a, shape);
  const y = b.size === n || b.size === 1 ? b : broadcastTo(b, shape);
  return new RingTensor(run(kernels(), x.data, y.data), shape);
}

function checkTensor(t: unknown, op: string): asserts t is RingTensor {
  if (!(t instanceof RingTensor)) {
    throw argumentError(
      `${op}: expected a RingTensor operand, got ${describe(t)}. Build one with fromInts or fromBigInts.`,
      { op },
    );
  }
}

function checkBits(bits: number, op: string): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 63) {
    throw argumentError(`${op}: expected a shift of 0 to 63 bits, got ${describe(bits)}.`, { op });
  }
}

function checkScalar(k: unknown, op: string): bigint {
  if (typeof k !== "bigint") {
    throw argumentError(`${op}: expected a bigint scalar (such as 3n), got ${describe(k)}.`, { op });
  }
  return BigInt.asIntN(64, k);
}

/**
 * a + b mod 2^64, broadcasting.
 *
 * @example
 * ```ts
 * add(fromInts([1, 2], [2]), scalar(-1n)); // [0, 1]
 * ```
 */
export function add(a: RingTensor, b: RingTensor): RingTensor {
  return binary("add", a, b, (k, x, y) => k.add(x, y));
}

/**
 * a - b mod 2^64, broadcasting.
 *
 * @example
 * ```ts
 * sub(fromInts([1, 2], [2]), fromInts([3], [1])); // [-2, -1]
 * ```
 */
export function sub(a: RingTensor, b: RingTensor): RingTensor {
  return binary("sub", a, b, (k, x, y) => k.sub(x, y));
}

/**
 * a * b mod 2^64, elementwise, broadcasting.
 *
 * @example
 * ```ts
 * mul(fromInts([2, 3], [2]), fromInts([4, -5], [2])); // [8, -15]
 * ```
 */
export function mul(a: RingTensor, b: RingTensor): RingTensor {
  return binary("mul", a, b, (k, x, y) => k.mul(x, y));
}

/**
 * -a mod 2^64.
 *
 * @example
 * ```ts
 * neg(fromInts([1, -2], [2])); // [-1, 2]
 * ```
 */
export function neg(a: RingTensor): RingTensor {
  checkTensor(a, "neg");
  return new RingTensor(kernels().neg(a.data), a.shape);
}

/**
 * a + k mod 2^64 for a public bigint k.
 *
 * @example
 * ```ts
 * addScalar(fromInts([1, 2], [2]), 10n); // [11, 12]
 * ```
 */
export function addScalar(a: RingTensor, k: bigint): RingTensor {
  checkTensor(a, "addScalar");
  return new RingTensor(kernels().addScalar(a.data, checkScalar(k, "addScalar")), a.shape);
}

/**
 * a * k mod 2^64 for a public bigint k.
 *
 * @example
 * ```ts
 * mulScalar(fromInts([1, -2], [2]), 3n); // [3, -6]
 * ```
 */
export function mulScalar(a: RingTensor, k: bigint): RingTensor {
  checkTensor(a, "mulScalar");
  return new RingTensor(kernels().mulScalar(a.data, checkScalar(k, "mulScalar")), a.shape);
}

/**
 * Arithmetic (sign-preserving) shift right by `bits` (0..63): floor(a / 2^bits).
 *
 * @example
 * ```ts
 * shr(fromInts([-8, 7], [2]), 2); // [-2, 1]
 * ```
 */
export function shr(a: RingTensor, bits: number): RingTensor {
  checkTensor(a, "shr");
  checkBits(bits, "shr");
  return new RingTensor(kernels().shr(a.data, bits), a.shape);
}

/**
 * Signed floor division by a positive public integer d < 2^63.
 *
 * @example
 * ```ts
 * divFloor(fromInts([7, -7], [2]), 2n); // [3, -4]
 * ```
 */
export function divFloor(a: RingTensor, d: bigint): RingTensor {
  checkTensor(a, "divFloor");
  if (typeof d !== "bigint" || d <= 0n || d >= 1n << 63n) {
    throw argumentError(
      `divFloor: expected a positive bigint divisor below 2^63, got ${describe(d)}. ` +
        `Divide by |d| and negate for a negative divisor.`,
      { op: "divFloor" },
    );
  }
  return new RingTensor(kernels().divFloor(a.data, d), a.shape);
}

/**
 * Bitwise a XOR b, broadcasting (addition of binary shares).
 *
 * @example
 * ```ts
 * xor(fromInts([0b1100], [1]), fromInts([0b1010], [1])); // [0b0110]
 * ```
 */
export function xor(a: RingTensor, b: RingTensor): RingTensor {
  return binary("xor", a, b, (k, x, y) => k.xor(x, y));
}

/**
 * Bitwise a AND b, broadcasting (multiplication of binary shares).
 *
 * @example
 * ```ts
 * and(fromInts([0b1100], [1]), fromInts([0b1010], [1])); // [0b1000]
 * ```
 */
export function and(a: RingTensor, b: RingTensor): RingTensor {
  return binary("and", a, b, (k, x, y) => k.and(x, y));
}

/**
 * Bitwise NOT (~a = -a - 1).
 *
 * @example
 * ```ts
 * not(fromInts([0], [1])); // [-1]
 * ```
 */
export function not(a: RingTensor): RingTensor {
  checkTensor(a, "not");
  return new RingTensor(kernels().not(a.data), a.shape);
}

/**
 * Shift left by `bits` (0..63), dropping bits past 2^63.
 *
 * @example
 * ```ts
 * shl(fromInts([3], [1]), 4); // [48]
 * ```
 */
export function shl(a: RingTensor, bits: number): RingTensor {
  checkTensor(a, "shl");
  checkBits(bits, "shl");
  return new RingTensor(kernels().shl(a.data, bits), a.shape);
}

/**
 * Logical shift right by `bits` (0..63): zeros come in from the top.
 *
 * @example
 * ```ts
 * shrLogical(fromInts([-1], [1]), 60); // [15]
 * ```
 */
export function shrLogical(a: RingTensor, bits: number): RingTensor {
  checkTensor(a, "shrLogical");
  checkBits(bits, "shrLogical");
  return new RingTensor(kernels().shrLogical(a.data, bits), a.shape);
}
