/**
 * The binary form of a plan: "TSYFTPLN", a format version byte, then a
 * MessagePack body. Versioned so that old bytes fail clearly, not strangely.
 * Shared state travels as the ids of its shares and the ids of their holders,
 * never as values.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { decodeMessage, encodeMessage } from "../core/codec";
import { ErrorCode, PlanError } from "../core/errors";
import type { FixedPointEncoding } from "../encoding/fixed-point";
import type { RingTensor } from "../ring";
import { FixedPrecisionTensor } from "../tensors/fixed-precision";
import type { PlainTensorData } from "../tensors/handle";
import { fromTensorData, type Hook } from "../tensors/hook";
import { AdditiveSharingTensor } from "../tensors/shared";
import { validateIR, type PlanIR } from "./ir";
import type { StateTensor } from "./state";

const MAGIC = new TextEncoder().encode("TSYFTPLN");
export const PLAN_FORMAT_VERSION = 1;

/** How one state entry travels: plaintext weights, local fixed-point values, or a reference to shares. */
export type SerializedState =
  | { kind: "plain"; name: string; data: PlainTensorData }
  | { kind: "fixed"; name: string; encoding: FixedPointEncoding; value: RingTensor }
  | {
      kind: "shared";
      name: string;
      encoding: FixedPointEncoding;
      id: string;
      shape: number[];
      holders: string[];
      provider?: string;
    };

export interface SerializedPlan {
  id: string;
  name: string;
  ir: PlanIR;
  state: SerializedState[];
}

export function planToBytes(plan: SerializedPlan): Uint8Array {
  const body = encodeMessage(plan);
  const out = new Uint8Array(MAGIC.length + 1 + body.length);
  out.set(MAGIC, 0);
  out[MAGIC.length] = PLAN_FORMAT_VERSION;
  out.set(body, MAGIC.length + 1);
  return out;
}

export function planFromBytes(bytes: Uint8Array): SerializedPlan {
  if (!(bytes instanceof Uint8Array) || bytes.length < MAGIC.length + 1 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new PlanError(
      ErrorCode.SERIALIZATION,
      "These bytes are not a tsyft plan (no TSYFTPLN header). Make them with plan.toBytes().",
    );
  }
  const version = bytes[MAGIC.length]!;
  if (version !== PLAN_FORMAT_VERSION) {
    throw new PlanError(
      ErrorCode.SERIALIZATION,
      `This plan is in format version ${version}; this tsyft reads version ${PLAN_FORMAT_VERSION}. Rebuild the plan with this version of tsyft.`,
      { version },
    );
  }
  let plan: SerializedPlan;
  try {
    plan = decodeMessage(bytes.subarray(MAGIC.length + 1)) as SerializedPlan;
  } catch (error) {
    throw new PlanError(
      ErrorCode.SERIALIZATION,
      `Corrupt plan bytes: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
  if (!plan || typeof plan.id !== "string" || !Array.isArray(plan.state)) {
    throw new PlanError(ErrorCode.SERIALIZATION, "Corrupt plan: missing id or state.");
  }
  validateIR(plan.ir);
  if (plan.state.length !== plan.ir.state.length) {
    throw new PlanError(
      ErrorCode.SERIALIZATION,
      `Corrupt plan: ${plan.state.length} state entries for ${plan.ir.state.length} state slots.`,
    );
  }
  return plan;
}

/** One state entry as it travels (see {@link SerializedState}). */
export function stateToWire(name: string, value: StateTensor): SerializedState {
  if (!(value instanceof FixedPrecisionTensor)) return { kind: "plain", name, data: float32DataOf(value) };
  if (value.child instanceof AdditiveSharingTensor) {
    const group = value.child.group;
    return {
      kind: "shared",
      name,
      encoding: value.encoding,
      id: value.child.id,
      shape: [...value.shape],
      holders: group.holders.map((h) => h.id),
      provider: group.provider?.id,
    };
  }
  return { kind: "fixed", name, encoding: value.encoding, value: value.child };
}

/** Rebuilds a state entry; shares are referred to on the hook's workers, by id. */
export function stateFromWire(hook: Hook, s: SerializedState): StateTensor {
  switch (s.kind) {
    case "plain":
      return fromTensorData(hook.tf, s.data);
    case "fixed":
      return new FixedPrecisionTensor(hook, s.value, s.encoding);
    case "shared": {
      const group = {
        holders: s.holders.map((id) => hook.resolveWorker(id)),
        provider: s.provider ? hook.resolveWorker(s.provider) : undefined,
      };
      return new FixedPrecisionTensor(hook, new AdditiveSharingTensor(hook, group, s.id, s.shape), s.encoding);
    }
  }
}

function float32DataOf(t: tfjs.Tensor): PlainTensorData {
  return { dtype: "float32", shape: [...t.shape], values: Float32Array.from(t.dataSync()) };
}
