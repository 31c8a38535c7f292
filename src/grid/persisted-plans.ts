/**
 * How hosted plans persist on a node with a data dir: the plan store keeps a
 * plan as an object of type "plan" (its bytes, token and fetched-once flag);
 * this writes those and reads them back (the bytes are parsed again).
 * Imported for its side effect by the node.
 *
 * @example
 * ```ts
 * import "./persisted-plans";   // plans now survive a node restart like shares do
 * ```
 */
import { decodeMessage, encodeMessage } from "../core/codec";
import { planFromBytes } from "../plans/serialize";
import { registerPersistedType } from "./object-persistence";

/** The persisted part of a hosted plan (see workers/plan-store.ts). */
interface HostedPlanRecord {
  bytes: Uint8Array;
  token?: string;
  fetchedOnce: boolean;
}

registerPersistedType("plan", {
  encode: (value) => {
    const hosted = value as HostedPlanRecord;
    return encodeMessage({ bytes: hosted.bytes, token: hosted.token, fetchedOnce: hosted.fetchedOnce });
  },
  decode: (bytes) => {
    const record = decodeMessage(bytes) as HostedPlanRecord;
    return {
      bytes: record.bytes,
      plan: planFromBytes(record.bytes),
      token: record.token,
      fetchedOnce: record.fetchedOnce === true,
    };
  },
});
