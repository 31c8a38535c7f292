/**
 * The hash of a plan's IR, under which a model's owner grants the use of its
 * weight shares (workers/grants.ts): sha256 of a canonical encoding, so that
 * the IR serveModel granted and the same IR as a querying client sends it
 * (decoded from the plan's bytes, re-encoded in a command) hash alike, and
 * any other IR (`return state[0]`) does not.
 *
 * Canonical: map keys sorted at every level, absent and null fields left out
 * (the wire turns undefined into null), typed arrays as their bytes.
 *
 * @example
 * ```ts
 * irHash(plan.ir);   // "9f86d08188..." (64 hex characters)
 * ```
 */
import { createHash } from "node:crypto";
import { encodeMessage } from "../core/codec";
import type { PlanIR } from "./ir";

/**
 * sha256 (hex) of the canonical encoding of `ir`.
 *
 * @example
 * ```ts
 * irHash(fetched.ir) === irHash(plan.ir);   // true: the same plan, however it travelled
 * ```
 */
export function irHash(ir: PlanIR): string {
  return createHash("sha256")
    .update(encodeMessage(canonical(ir)))
    .digest("hex");
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined && field !== null) out[key] = canonical(field);
  }
  return out;
}
