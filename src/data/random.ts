/**
 * A small seeded random number generator for data work (splits, shuffles, augmentation).
 *
 * xoshiro128** (Blackman and Vigna), 128 bits of state seeded through splitmix32, so equal
 * seeds give equal streams on every platform. Not for cryptography: shares and masks use
 * node:crypto elsewhere in tsyft.
 */
import { DataError, ErrorCode } from "../core/errors";

/** A seed: any finite number (its integer bits are used) or a string. */
export type Seed = number | string;

/**
 * A seeded xoshiro128** stream.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.next();             // a float in [0, 1)
 * rng.int(10);            // an integer in 0..9
 * rng.permutation(5);     // e.g. [3, 0, 4, 1, 2], the same for every run with seed 42
 * const child = rng.derive("epoch", 3);  // an independent stream, a pure function of (42, "epoch", 3)
 * ```
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The seed this stream was made from. */
  readonly seed: number;

  constructor(seed: Seed = 0) {
    this.seed = seedToUint32(seed);
    let x = this.seed;
    const step = (): number => {
      // splitmix32: spreads one 32-bit seed over the four state words.
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s0 = step();
    this.s1 = step();
    this.s2 = step();
    this.s3 = step();
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An unbiased integer in `0 .. n-1` (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x1_0000_0000) {
      throw new DataError(ErrorCode.INVALID_ARGUMENT, `Rng.int(n) expects an integer 1 <= n <= 2^32, got ${n}.`);
    }
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % n;
    }
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of `0 .. n-1`. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /**
   * An independent stream that depends only on this stream's seed and `keys`, never on how
   * far this stream has advanced: `new Rng(7).derive(2, 5)` is the same stream every time.
   */
  derive(...keys: Seed[]): Rng {
    let h = this.seed;
    for (const key of keys) h = mix(h, seedToUint32(key));
    return new Rng(h);
  }
}

/**
 * Maps a seed to 32 bits: integers keep their low bits (negatives and fractions are mixed in),
 * strings are hashed (FNV-1a).
 *
 * @example
 * ```ts
 * seedToUint32(42);        // 42
 * seedToUint32("train");   // a fixed 32-bit hash
 * ```
 */
export function seedToUint32(seed: Seed): number {
  if (typeof seed === "string") {
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) {
      h ^= seed.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
  }
  if (!Number.isFinite(seed)) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `A seed must be a finite number or a string, got ${seed}.`);
  }
  if (Number.isInteger(seed) && Math.abs(seed) <= Number.MAX_SAFE_INTEGER) {
    const low = seed % 0x1_0000_0000;
    const high = Math.floor(seed / 0x1_0000_0000);
    return (high === 0 || high === -1 ? low >>> 0 : mix(low >>> 0, high >>> 0)) >>> 0;
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed);
  return mix(view.getUint32(0), view.getUint32(4));
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Combines two 32-bit words into one (a murmur3-style finalizer over both). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
