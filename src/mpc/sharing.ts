/**
 * Additive secret sharing over Z_2^64.
 *
 * A secret x is split into n shares that sum to x mod 2^64; any n-1 of them
 * are uniformly random and independent of x. Linear maps act share-wise, so
 * add, sub, neg, sums and multiplication by public values need no talking.
 *
 * @example
 * ```ts
 * const [s0, s1] = share(ring.fromInts([7], [1]), 2);
 * ring.toBigInts(reconstruct([s0, s1]));   // [7n]
 * ```
 */
import { ErrorCode, ProtocolError } from "../core/errors";
import * as ring from "../ring";

/** Splits `secret` into `n` uniformly random additive shares. */
export function share(secret: ring.RingTensor, n: number): ring.RingTensor[] {
  if (!Number.isInteger(n) || n < 2) {
    throw new ProtocolError(ErrorCode.UNSUPPORTED_PARTIES, `Sharing needs at least 2 share holders, got ${n}.`);
  }
  const shares: ring.RingTensor[] = [];
  let rest = secret;
  for (let i = 0; i < n - 1; i++) {
    const r = ring.sample(secret.shape);
    shares.push(r);
    rest = ring.sub(rest, r);
  }
  shares.push(rest);
  return shares;
}

/** Sums shares back into the secret. */
export function reconstruct(shares: readonly ring.RingTensor[]): ring.RingTensor {
  if (shares.length === 0)
    throw new ProtocolError(ErrorCode.INVALID_ARGUMENT, "reconstruct: expected at least one share, got none.");
  return shares.reduce((acc, s) => ring.add(acc, s));
}

/** XOR-combines binary shares. */
export function reconstructBinary(shares: readonly ring.RingTensor[]): ring.RingTensor {
  return shares.reduce((acc, s) => ring.xor(acc, s));
}
