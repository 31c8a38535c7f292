/**
 * Fused ops for AND gates on XOR-shared 64-bit words (Beaver's trick over
 * GF(2)^64), so that a batch of ANDs costs two passes over its operands
 * instead of a dozen elementwise ops, concats and slices:
 * - `andMasks`: the values a holder opens, x ^ a and y ^ b, for many pairs at
 *   once, operands optionally shifted left first (as a carry-lookahead adder
 *   needs), written end to end into one tensor;
 * - `andCombine`: a holder's share of x & y from every holder's masks and its
 *   triple;
 * - `andCorrection`: the dealer's side, the last holder's share of c = a & b.
 */
import { kernels, type ShiftedWords } from "./kernels";
import { argumentError, describe } from "./shapes";
import { RingTensor } from "./tensor";

/** An operand of an AND: a tensor, or a tensor shifted left by 0 to 63 bits first. */
export type BitOperand = RingTensor | { tensor: RingTensor; shl: number };

function operand(x: BitOperand, op: string): ShiftedWords {
  const [tensor, shift] = x instanceof RingTensor ? [x, 0] : [x?.tensor, x?.shl];
  if (!(tensor instanceof RingTensor)) {
    throw argumentError(`${op}: expected a RingTensor or { tensor, shl } operand, got ${describe(x)}.`, { op });
  }
  if (!Number.isInteger(shift) || shift! < 0 || shift! > 63) {
    throw argumentError(`${op}: expected a shift of 0 to 63 bits, got ${describe(shift)}.`, { op });
  }
  return { data: tensor.data, shift: shift! };
}

function checkLength(t: unknown, length: number, what: string, op: string): asserts t is RingTensor {
  if (!(t instanceof RingTensor) || t.size !== length) {
    const got = t instanceof RingTensor ? `${t.size} elements` : describe(t);
    throw argumentError(`${op}: expected ${what} of ${length} elements, got ${got}.`, { op });
  }
}

/**
 * The masks a batch of ANDs x_i & y_i opens: with X the x_i end to end and Y
 * the y_i end to end (m elements each, the triple's length), returns the flat
 * tensor [X ^ a, Y ^ b] of 2m elements.
 *
 * @example
 * ```ts
 * const m = andMasks([x], [{ tensor: g, shl: 4 }], a, b); // [x ^ a, (g << 4) ^ b]
 * ```
 */
export function andMasks(xs: readonly BitOperand[], ys: readonly BitOperand[], a: RingTensor, b: RingTensor): RingTensor {
  const op = "andMasks";
  const xw = Array.from(xs, (x) => operand(x, op));
  const yw = Array.from(ys, (y) => operand(y, op));
  const m = xw.reduce((n, x) => n + x.data.length, 0);
  if (yw.reduce((n, y) => n + y.data.length, 0) !== m) {
    throw argumentError(`${op}: the x operands have ${m} elements in all but the y operands ${yw.reduce((n, y) => n + y.data.length, 0)}; pair them up.`, { op });
  }
  checkLength(a, m, "a triple's a", op);
  checkLength(b, m, "a triple's b", op);
  return new RingTensor(m === 0 ? new BigInt64Array(0) : kernels().andMask(xw, yw, a.data, b.data), [2 * m]);
}

/**
 * A holder's share of the ANDs after their masks are opened: [E, F] is the XOR
 * of every holder's `masked` (from andMasks), and the share is
 * c ^ (E & b) ^ (a & F), plus E & F on exactly one holder (`withProduct`).
 *
 * @example
 * ```ts
 * const z = andCombine([mine, theirs], a, b, c, ctx.isFirst);
 * ```
 */
export function andCombine(masked: readonly RingTensor[], a: RingTensor, b: RingTensor, c: RingTensor, withProduct: boolean): RingTensor {
  const op = "andCombine";
  if (!(a instanceof RingTensor)) throw argumentError(`${op}: expected a triple's a as a RingTensor, got ${describe(a)}.`, { op });
  const m = a.size;
  checkLength(b, m, "a triple's b", op);
  checkLength(c, m, "a triple's c", op);
  if (!Array.isArray(masked) || masked.length === 0) throw argumentError(`${op}: expected every holder's masks, got ${describe(masked)}.`, { op });
  masked.forEach((t) => checkLength(t, 2 * m, "masks", op));
  return new RingTensor(m === 0 ? new BigInt64Array(0) : kernels().andCombine(masked.map((t) => t.data), a.data, b.data, c.data, withProduct), [m]);
}

/**
 * The last holder's share of c for a binary triple: with a and b the XOR of
 * every holder's share, (a & b) ^ (XOR of the other holders' c), flat.
 *
 * @example
 * ```ts
 * const c1 = andCorrection([a0, a1], [b0, b1], [c0]); // c0 ^ c1 = (a0 ^ a1) & (b0 ^ b1)
 * ```
 */
export function andCorrection(as: readonly RingTensor[], bs: readonly RingTensor[], cs: readonly RingTensor[]): RingTensor {
  const op = "andCorrection";
  if (!Array.isArray(as) || !(as[0] instanceof RingTensor) || !Array.isArray(bs) || bs.length === 0 || !Array.isArray(cs) || cs.length === 0) {
    throw argumentError(`${op}: expected non-empty lists of shares of a, b and c, got ${describe(as)}, ${describe(bs)}, ${describe(cs)}.`, { op });
  }
  const m = as[0].size;
  for (const t of [...as, ...bs, ...cs]) checkLength(t, m, "shares", op);
  const data = m === 0 ? new BigInt64Array(0) : kernels().andCorrection(as.map((t) => t.data), bs.map((t) => t.data), cs.map((t) => t.data));
  return new RingTensor(data, [m]);
}
