// Fused kernels for AND gates on XOR-shared words (AssemblyScript); the ops
// around them are in src/ring/and-gates.ts. Two lanes per v128, odd last
// element on the scalar path, as in elementwise.ts.

/** out = (src << shift) ^ mask over n words, shift in 0..63 (out may be src). */
export function shlXor(src: usize, shift: i32, mask: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16)
    v128.store(out + o, v128.xor(i64x2.shl(v128.load(src + o), shift), v128.load(mask + o)));
  if (o < end) store<i64>(out + o, (load<i64>(src + o) << shift) ^ load<i64>(mask + o));
}

/**
 * A holder's share of the ANDs: out = (e & b) ^ (a & f) ^ (e & f & product),
 * ^ c unless c is 0 (no array), with the opened e = e0 ^ e1 and f = f0 ^ f1;
 * product is all ones on the one holder that adds e & f, zero elsewhere.
 */
export function andCombine(
  e0: usize,
  e1: usize,
  f0: usize,
  f1: usize,
  a: usize,
  b: usize,
  c: usize,
  product: i64,
  out: usize,
  n: i32,
): void {
  const end = (<usize>n) << 3;
  const pv = i64x2.splat(product);
  const zero = i64x2.splat(0);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) {
    const e = v128.xor(v128.load(e0 + o), v128.load(e1 + o));
    const f = v128.xor(v128.load(f0 + o), v128.load(f1 + o));
    const z = v128.xor(v128.and(e, v128.load(b + o)), v128.and(v128.load(a + o), f));
    const cv = c != 0 ? v128.load(c + o) : zero;
    v128.store(out + o, v128.xor(v128.xor(z, cv), v128.and(v128.and(e, f), pv)));
  }
  if (o < end) {
    const e = load<i64>(e0 + o) ^ load<i64>(e1 + o);
    const f = load<i64>(f0 + o) ^ load<i64>(f1 + o);
    const cw: i64 = c != 0 ? load<i64>(c + o) : 0;
    store<i64>(out + o, cw ^ (e & load<i64>(b + o)) ^ (load<i64>(a + o) & f) ^ (e & f & product));
  }
}
