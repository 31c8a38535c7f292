/**
 * Fused ops for AND gates on XOR-shared 64-bit words (Beaver's trick over
 * GF(2)^64), so that a batch of ANDs costs one pass over its operands on each
 * side of the opening instead of a dozen elementwise ops, concats and slices:
 * - `andMasks`: the values a holder opens, x ^ a and y ^ b, for many pairs at
 *   once, operands optionally shifted left first (as a carry-lookahead adder
 *   needs), end to end in one tensor;
 * - `andCombine`: a holder's share of x & y from every holder's masks;
 * - `andCorrection`: the dealer's side, the last holder's share of c.
 *
 * A triple share is tensors, or the PRG seed it comes from. A seeded share's
 * stream 0 holds, after TRIPLE_SKIP bytes, a then b (m words each), and its
 * stream 1, after TRIPLE_SKIP bytes, c. The kernels lay out the values to
 * mask behind TRIPLE_SKIP zero bytes and let the cipher mask them
 * (prg.ts xorKeystream): the keystream is never stored on its own, and the
 * masks and corrections come out with room in front for a frame header
 * (wire.ts headroom), so they are sent without a copy.
 */
import { kernels, type Encrypt, type ShiftedWords } from "./kernels";
import { expand, keystream, keystreamXor } from "./prg";
import { argumentError, describe } from "./shape-basics";
import { RingTensor } from "./tensor";
import { reserveHeadroom } from "./wire";

/** An operand of an AND: a tensor, or a tensor shifted left by 0 to 63 bits first. */
export type BitOperand = RingTensor | { tensor: RingTensor; shl: number };

/** A holder's share of a binary triple (a, b, c = a & b once XORed over all holders), whole; c may come later. */
export interface TensorTriple {
  a: RingTensor;
  b: RingTensor;
  c?: RingTensor;
}

/** The same as the seed it expands from (see the file header); `c`, when given, replaces stream 1. */
export interface SeededTriple {
  seed: Uint8Array;
  /** Words of a, b and c. */
  length: number;
  c?: RingTensor;
}

export type BinaryTriple = TensorTriple | SeededTriple;

/** Bytes at the start of each stream of a seeded triple that are not used (room for a frame header). */
export const TRIPLE_SKIP = 256;

/** Words per kernel call: bounds the working memory of one call (about 60 bytes a word). */
export const BATCH_WORDS = 1 << 20;

function isSeeded(t: BinaryTriple): t is SeededTriple {
  return (t as SeededTriple).seed !== undefined;
}

/** Words of a triple share; throws on anything that is not one. */
function tripleLength(t: BinaryTriple, op: string): number {
  if (t && isSeeded(t)) {
    if (!Number.isInteger(t.length) || t.length < 0)
      throw argumentError(`${op}: expected a seeded triple's length as a count, got ${describe(t.length)}.`, { op });
    if (t.c !== undefined) checkLength(t.c, t.length, "the triple's c", op);
    return t.length;
  }
  if (!(t?.a instanceof RingTensor))
    throw argumentError(
      `${op}: expected a binary triple share ({ a, b, c } or { seed, length }), got ${describe(t)}.`,
      { op },
    );
  checkLength(t.b, t.a.size, "the triple's b", op);
  if (t.c !== undefined) checkLength(t.c, t.a.size, "the triple's c", op);
  return t.a.size;
}

function checkLength(t: unknown, length: number, what: string, op: string): asserts t is RingTensor {
  if (!(t instanceof RingTensor) || t.size !== length) {
    const got = t instanceof RingTensor ? `${t.size} elements` : describe(t);
    throw argumentError(`${op}: expected ${what} of ${length} elements, got ${got}.`, { op });
  }
}

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

/** The x and y operands, each run as long as the triple. */
function operandRuns(
  xs: readonly BitOperand[],
  ys: readonly BitOperand[],
  m: number,
  op: string,
): [ShiftedWords[], ShiftedWords[]] {
  const x = Array.from(xs, (o) => operand(o, op));
  const y = Array.from(ys, (o) => operand(o, op));
  const [xn, yn] = [x, y].map((run) => run.reduce((n, p) => n + p.data.length, 0));
  if (xn !== m || yn !== m) {
    throw argumentError(
      `${op}: expected x and y operands of ${m} elements in all (the triple's length), got ${xn} and ${yn}.`,
      { op },
    );
  }
  return [x, y];
}

/** `count` words of `bytes` from byte `offset`: in place when aligned, else copied. */
function wordsAt(bytes: Uint8Array, offset: number, count: number): BigInt64Array {
  if ((bytes.byteOffset + offset) % 8 === 0) return new BigInt64Array(bytes.buffer, bytes.byteOffset + offset, count);
  return new BigInt64Array(bytes.slice(offset, offset + 8 * count).buffer);
}

/** A tensor triple's a and b used as a seeded one's keystream is: [skipped zeros, a, b], piece by piece. */
function xorWith(parts: readonly RingTensor[], skip: number): Encrypt {
  const stream = new Uint8Array(skip + parts.reduce((n, t) => n + t.data.byteLength, 0));
  let at = skip;
  for (const { data } of parts) {
    stream.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  let used = 0;
  // Plain JavaScript, not a ring kernel: `plain` may be a kernel's own WebAssembly memory.
  return (plain) => {
    const out = plain.slice();
    for (let i = 0; i < out.length; i++) out[i] ^= stream[used + i];
    used += plain.byteLength;
    return out;
  };
}

/** Operands end to end, words [lo, hi) of them. */
function sliceRun(parts: readonly ShiftedWords[], lo: number, hi: number): ShiftedWords[] {
  const out: ShiftedWords[] = [];
  let start = 0;
  for (const { data, shift } of parts) {
    const end = start + data.length;
    if (end > lo && start < hi)
      out.push({ data: data.subarray(Math.max(lo, start) - start, Math.min(hi, end) - start), shift });
    start = end;
  }
  return out;
}

/** Words [lo, hi) of [0, length) in pieces of at most BATCH_WORDS; one piece (0, length) when it fits. */
function batches(length: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let lo = 0; lo < length || out.length === 0; lo += BATCH_WORDS)
    out.push([lo, Math.min(length, lo + BATCH_WORDS)]);
  return out;
}

/** Pieces of bytes end to end: the one piece itself, else a copy into one buffer. */
function joined(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * The masks a batch of ANDs x_i & y_i opens: with X the x_i end to end and Y
 * the y_i end to end (as long as the triple), returns the flat tensor
 * [X ^ a, Y ^ b] of twice the triple's length, with headroom for a frame.
 *
 * @example
 * ```ts
 * const masks = andMasks([p], [{ tensor: g, shl: 4 }], triple); // [p ^ a, (g << 4) ^ b]
 * ```
 */
export function andMasks(xs: readonly BitOperand[], ys: readonly BitOperand[], triple: BinaryTriple): RingTensor {
  const op = "andMasks";
  const m = tripleLength(triple, op);
  const [x, y] = operandRuns(xs, ys, m, op);
  const encrypt = isSeeded(triple) ? keystreamXor(triple.seed, 0) : xorWith([triple.a, triple.b], TRIPLE_SKIP);
  const k = kernels();
  if (m <= BATCH_WORDS) return sendable(k.andMask(x, y, TRIPLE_SKIP, encrypt), 2 * m);
  // X then Y, a batch at a time, through one keystream; the first piece carries the skipped bytes.
  const pieces = [x, y].flatMap((run, i) =>
    batches(m).map(([lo, hi]) => k.andMask(sliceRun(run, lo, hi), [], i === 0 && lo === 0 ? TRIPLE_SKIP : 0, encrypt)),
  );
  return sendable(joined(pieces), 2 * m);
}

/** The words after the skipped bytes as a tensor whose skipped bytes (zeroed) are headroom. */
function sendable(bytes: Uint8Array, count: number): RingTensor {
  bytes.fill(0, 0, TRIPLE_SKIP);
  const data = wordsAt(bytes, TRIPLE_SKIP, count);
  reserveHeadroom(data);
  return new RingTensor(data, [count]);
}

/**
 * A holder's share of the ANDs once their masks are opened: [E, F] is the XOR
 * of every holder's `masked`, this holder's first (andMasks of the same xs, ys
 * and triple, from which its a and b come back), and the share is
 * c ^ (E & b) ^ (a & F), plus E & F on exactly one holder (`withProduct`).
 * Of the triple only c is read. An `addend` is XORed into the result's first
 * elements on the way (a carry into a running XOR, without another pass).
 *
 * @example
 * ```ts
 * const z = andCombine([mine, theirs], xs, ys, triple, ctx.isFirst);
 * const gAndP = andCombine([mine, theirs], [p, p], [gShifted, pShifted], triple, ctx.isFirst, g); // [g ^ carry, propagate]
 * ```
 */
export function andCombine(
  masked: readonly RingTensor[],
  xs: readonly BitOperand[],
  ys: readonly BitOperand[],
  triple: BinaryTriple,
  withProduct: boolean,
  addend?: RingTensor,
): RingTensor {
  const op = "andCombine";
  const m = tripleLength(triple, op);
  if (!Array.isArray(masked) || masked.length === 0)
    throw argumentError(`${op}: expected every holder's masks, this holder's first, got ${describe(masked)}.`, { op });
  masked.forEach((t) => checkLength(t, 2 * m, "masks", op));
  if (addend !== undefined && (!(addend instanceof RingTensor) || addend.size > m)) {
    throw argumentError(
      `${op}: expected an addend of at most ${m} elements, got ${addend instanceof RingTensor ? `${addend.size} elements` : describe(addend)}.`,
      { op },
    );
  }
  const [x, y] = operandRuns(xs, ys, m, op);
  let c: BigInt64Array | Encrypt;
  if (triple.c) c = triple.c.data;
  else if (isSeeded(triple)) c = keystreamXor(triple.seed, 1);
  else throw argumentError(`${op}: the binary triple's c has not been given: pass { a, b, c }.`, { op });
  const skip = typeof c === "function" ? TRIPLE_SKIP : 0;
  const k = kernels();
  const pieces = batches(m).map(([lo, hi]) =>
    k.andCombine(
      masked.map((t) => t.data.subarray(lo, hi)),
      masked.map((t) => t.data.subarray(m + lo, m + hi)),
      sliceRun(x, lo, hi),
      sliceRun(y, lo, hi),
      typeof c === "function" ? c : c.subarray(lo, hi),
      lo === 0 ? skip : 0,
      withProduct,
      addend && lo < addend.size ? addend.data.subarray(lo, Math.min(hi, addend.size)) : undefined,
    ),
  );
  const bytes = joined(pieces);
  bytes.fill(0, 0, skip); // keystream nothing uses
  return new RingTensor(wordsAt(bytes, skip, m), [m]);
}

/**
 * The last holder's share of c for a binary triple: (XOR of every holder's a)
 * & (XOR of every b) ^ (XOR of the other holders' c), flat, with headroom for
 * a frame. Every share is a seed (the others' c from their stream 1).
 *
 * @example
 * ```ts
 * const c1 = andCorrection([{ seed: seed0, length: n }], { seed: seed1, length: n }); // c0 ^ c1 = (a0 ^ a1) & (b0 ^ b1)
 * ```
 */
export function andCorrection(others: readonly SeededTriple[], last: SeededTriple): RingTensor {
  const op = "andCorrection";
  const m = tripleLength(last, op);
  if (!Array.isArray(others) || others.length === 0)
    throw argumentError(`${op}: expected the other holders' shares, got ${describe(others)}.`, { op });
  for (const t of others) {
    if (!t || !isSeeded(t) || tripleLength(t, op) !== m)
      throw argumentError(`${op}: expected seeded shares of ${m} words, got ${describe(t)}.`, { op });
  }
  if (!isSeeded(last))
    throw argumentError(`${op}: expected the last holder's share as a seed, got ${describe(last)}.`, { op });
  // [A, B]: every holder's stream 0 applied in turn.
  let ab = keystream(last.seed, 0, TRIPLE_SKIP + 16 * m);
  for (const t of others) ab = keystreamXor(t.seed, 0)(ab);
  const [a, b] = [wordsAt(ab, TRIPLE_SKIP, m), wordsAt(ab, TRIPLE_SKIP + 8 * m, m)];
  const cs = others.map((t) => keystreamXor(t.seed, 1));
  const encrypt: Encrypt = (plain) => cs.reduce((acc, mask) => mask(acc), plain);
  const k = kernels();
  const pieces = batches(m).map(([lo, hi]) =>
    k.andCorrection(a.subarray(lo, hi), b.subarray(lo, hi), lo === 0 ? TRIPLE_SKIP : 0, encrypt),
  );
  return sendable(joined(pieces), m);
}

/**
 * A seeded triple share as tensors, flat: for tests and for callers that want
 * the values.
 *
 * @example
 * ```ts
 * const { a, b, c } = expandTriple({ seed, length: 8 }, true);
 * ```
 */
export function expandTriple(triple: SeededTriple, withC: boolean): { a: RingTensor; b: RingTensor; c?: RingTensor } {
  const m = tripleLength(triple, "expandTriple");
  if (!isSeeded(triple))
    throw argumentError(`expandTriple: expected a seeded triple share, got ${describe(triple)}.`, {
      op: "expandTriple",
    });
  const skip = TRIPLE_SKIP / 8;
  const ab = expand(triple.seed, [skip + 2 * m], 0).data;
  const a = new RingTensor(ab.slice(skip, skip + m), [m]);
  const b = new RingTensor(ab.slice(skip + m), [m]);
  if (!withC) return { a, b };
  const c = triple.c ?? new RingTensor(expand(triple.seed, [skip + m], 1).data.slice(skip), [m]);
  return { a, b, c };
}
