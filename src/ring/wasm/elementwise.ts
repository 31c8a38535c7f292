// Elementwise Z_2^64 kernels over i64 arrays in linear memory (AssemblyScript).
//
// Every kernel reads `n` little-endian i64 values at `a` (and `b`) and writes `n`
// results at `out`. Two lanes go through one v128 at a time; an odd last element
// takes the scalar path. Wrap-around mod 2^64 is what i64 arithmetic does anyway.

// ---- two arrays of equal length ----

export function add(a: usize, b: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.add(v128.load(a + o), v128.load(b + o)));
  if (o < end) store<i64>(out + o, load<i64>(a + o) + load<i64>(b + o));
}

export function sub(a: usize, b: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.sub(v128.load(a + o), v128.load(b + o)));
  if (o < end) store<i64>(out + o, load<i64>(a + o) - load<i64>(b + o));
}

export function mul(a: usize, b: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.mul(v128.load(a + o), v128.load(b + o)));
  if (o < end) store<i64>(out + o, load<i64>(a + o) * load<i64>(b + o));
}

export function xor(a: usize, b: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, v128.xor(v128.load(a + o), v128.load(b + o)));
  if (o < end) store<i64>(out + o, load<i64>(a + o) ^ load<i64>(b + o));
}

export function and(a: usize, b: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, v128.and(v128.load(a + o), v128.load(b + o)));
  if (o < end) store<i64>(out + o, load<i64>(a + o) & load<i64>(b + o));
}

// ---- an array and one public or broadcast value ----

export function addScalar(a: usize, k: i64, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  const kv = i64x2.splat(k);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.add(v128.load(a + o), kv));
  if (o < end) store<i64>(out + o, load<i64>(a + o) + k);
}

/** out = k - a (a broadcast value minus an array). */
export function rsubScalar(a: usize, k: i64, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  const kv = i64x2.splat(k);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.sub(kv, v128.load(a + o)));
  if (o < end) store<i64>(out + o, k - load<i64>(a + o));
}

export function mulScalar(a: usize, k: i64, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  const kv = i64x2.splat(k);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.mul(v128.load(a + o), kv));
  if (o < end) store<i64>(out + o, load<i64>(a + o) * k);
}

export function xorScalar(a: usize, k: i64, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  const kv = i64x2.splat(k);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, v128.xor(v128.load(a + o), kv));
  if (o < end) store<i64>(out + o, load<i64>(a + o) ^ k);
}

export function andScalar(a: usize, k: i64, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  const kv = i64x2.splat(k);
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, v128.and(v128.load(a + o), kv));
  if (o < end) store<i64>(out + o, load<i64>(a + o) & k);
}

// ---- one array ----

export function neg(a: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.neg(v128.load(a + o)));
  if (o < end) store<i64>(out + o, -load<i64>(a + o));
}

export function not(a: usize, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, v128.not(v128.load(a + o)));
  if (o < end) store<i64>(out + o, ~load<i64>(a + o));
}

/** Arithmetic shift right by `bits` (0..63). */
export function shr(a: usize, bits: i32, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.shr_s(v128.load(a + o), bits));
  if (o < end) store<i64>(out + o, load<i64>(a + o) >> bits);
}

/** Logical shift right by `bits` (0..63). */
export function shrLogical(a: usize, bits: i32, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.shr_u(v128.load(a + o), bits));
  if (o < end) store<i64>(out + o, <i64>((<u64>load<i64>(a + o)) >>> bits));
}

/** Shift left by `bits` (0..63). */
export function shl(a: usize, bits: i32, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  let o: usize = 0;
  for (; o + 16 <= end; o += 16) v128.store(out + o, i64x2.shl(v128.load(a + o), bits));
  if (o < end) store<i64>(out + o, load<i64>(a + o) << bits);
}

/** Signed floor division by a positive divisor `d` (no SIMD integer division exists). */
export function divFloor(a: usize, d: i64, out: usize, n: i32): void {
  const end = (<usize>n) << 3;
  if ((d & (d - 1)) == 0) {
    // A power of two: floor division is an arithmetic shift.
    const bits = <i32>ctz<i64>(d);
    shr(a, bits, out, n);
    return;
  }
  for (let o: usize = 0; o < end; o += 8) {
    const x = load<i64>(a + o);
    let q = x / d;
    if (x - q * d < 0) q -= 1;
    store<i64>(out + o, q);
  }
}
