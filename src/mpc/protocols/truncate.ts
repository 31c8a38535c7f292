/**
 * Truncation: divides a shared fixed-point value by the scale after a product.
 *
 * With two holders it is local (SecureML): holder 0 computes floor(z0 / s),
 * holder 1 computes -floor(-z1 / s). 0 rounds, 0 bytes. Read as signed
 * integers the shares sum to z without wrapping unless |z| is near 2^63, so
 * the result is within 1 of z / s except with probability about |z| / 2^63.
 * The same holds for any public positive divisor (avgPool, mean, div).
 * With more holders this local trick fails; they are refused.
 * Provider: nothing.
 */
import { ErrorCode, ProtocolError } from "../../core/errors";
import * as ring from "../../ring";
import type { PartyContext } from "../context";

/** Divides shared values by a public positive integer, locally (two holders). */
export function divPublicInteger(ctx: PartyContext, z: ring.RingTensor, divisor: bigint): ring.RingTensor {
  if (divisor <= 0n) {
    throw new ProtocolError(
      ErrorCode.INVALID_ARGUMENT,
      `Division of shared values needs a positive public divisor, got ${divisor}.`,
    );
  }
  if (divisor === 1n) return z;
  ctx.requireTwoHolders("truncation");
  const isPow2 = (divisor & (divisor - 1n)) === 0n;
  const bits = isPow2 ? divisor.toString(2).length - 1 : 0;
  const floorDiv = (t: ring.RingTensor) => (isPow2 ? ring.shr(t, bits) : ring.divFloor(t, divisor));
  return ctx.isFirst ? floorDiv(z) : ring.neg(floorDiv(ring.neg(z)));
}

/** Truncation after a fixed-point product with scale `scale`. */
export function truncate(ctx: PartyContext, z: ring.RingTensor, scale: bigint): ring.RingTensor {
  return divPublicInteger(ctx, z, scale);
}
