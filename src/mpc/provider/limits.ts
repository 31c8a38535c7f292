/**
 * What a crypto provider deals per request, bounded: a request of a few
 * bytes (`randomBits` of 2e7 elements) would otherwise make the provider
 * expand and send hundreds of megabytes. The provider checks each piece of
 * material before it computes anything.
 *
 * @example
 * ```ts
 * checkMaterialRequest({ kind: "randomBits", shape: [20_000_000] });   // throws TSYFT_ERR_LIMIT
 * ```
 */
import { getConfig } from "../../core/config";
import { ErrorCode, ProtocolError } from "../../core/errors";
import { checkLimit } from "../../core/limits";
import * as ring from "../../ring";
import { beaverOutputShape, type MaterialSpec } from "./provider";

/** The limit a provider applies (a snapshot of the config, or the config in force). */
export interface MaterialLimits {
  maxDealerElements: number;
}

/**
 * Ring elements the provider makes for one piece of material: a, b and c of
 * a triple, the two shares of random bits, a DCF's correction words. Throws a typed error for a spec
 * that is not one (a hostile or broken holder).
 *
 * @example
 * ```ts
 * materialElements({ kind: "beaver", op: { kind: "mul" }, xShape: [2], yShape: [2] });   // 6
 * ```
 */
export function materialElements(spec: MaterialSpec): number {
  const size = (shape: unknown) => {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `A dealer request with a shape of ${JSON.stringify(shape)?.slice(0, 80)}; expected non-negative integers.`,
      );
    }
    return ring.shapes.size(shape);
  };
  switch (spec?.kind) {
    case "beaver":
      return size(spec.xShape) + size(spec.yShape) + size(beaverOutputShape(spec.op, spec.xShape, spec.yShape));
    case "binaryTriple":
      return 3 * size(spec.shape);
    case "randomBits":
      return 2 * size(spec.shape);
    // The correction words (3 per bit: ring/dcf.ts), generated once for both holders, and the top-bit share.
    case "dcf":
      return (3 * (Number.isInteger(spec.bits) ? spec.bits : 64) + 1) * size(spec.shape);
    default:
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `A dealer request for material of kind ${JSON.stringify((spec as { kind?: unknown } | undefined)?.kind)}; expected beaver, binaryTriple, randomBits or dcf.`,
      );
  }
}

/**
 * Refuses (TSYFT_ERR_LIMIT, `maxDealerElements`) a piece of material larger
 * than the provider deals at once; a holder asking for more must split it.
 *
 * @example
 * ```ts
 * checkMaterialRequest(spec, { maxDealerElements: 1 << 20 });
 * ```
 */
export function checkMaterialRequest(spec: MaterialSpec, limits: MaterialLimits = getConfig()): void {
  checkLimit(
    "maxDealerElements",
    materialElements(spec),
    `ring elements of one ${spec.kind} piece of material asked of the crypto provider`,
    limits.maxDealerElements,
  );
}
