/**
 * How hosted plans and use grants persist on a node with a data dir: the plan
 * store keeps a plan as an object of type "plan" (its bytes, token,
 * fetched-once flag and policy), the grants are objects of type "grant";
 * this writes those and reads them back (plan bytes are parsed again). A plan
 * written before plans had policies comes back private (its owner and the
 * admin only). Imported for its side effect by the node.
 *
 * @example
 * ```ts
 * import "./persisted-plans";   // plans and grants now survive a node restart like shares do
 * ```
 */
import { decodeMessage, encodeMessage } from "../core/codec";
import { planFromBytes } from "../plans/serialize";
import { checkGrant, GRANT_TYPE } from "../workers/grants";
import { checkPolicy, PLAN_TYPE, type HostedPlan } from "../workers/plan-store";
import { registerPersistedType } from "./object-persistence";

/** The persisted part of a hosted plan. */
type HostedPlanRecord = Omit<HostedPlan, "plan">;

registerPersistedType(PLAN_TYPE, {
  encode: (value) => {
    const hosted = value as HostedPlan;
    return encodeMessage({
      bytes: hosted.bytes,
      token: hosted.token,
      fetchedOnce: hosted.fetchedOnce,
      policy: hosted.policy,
    } satisfies HostedPlanRecord);
  },
  decode: (bytes): HostedPlan => {
    const record = decodeMessage(bytes) as Partial<HostedPlanRecord>;
    return {
      bytes: record.bytes!,
      plan: planFromBytes(record.bytes!),
      token: typeof record.token === "string" ? record.token : undefined,
      fetchedOnce: record.fetchedOnce === true,
      policy: checkPolicy(record.policy),
    };
  },
});

registerPersistedType(GRANT_TYPE, {
  encode: (value) => encodeMessage(value),
  decode: (bytes) => checkGrant(decodeMessage(bytes)),
});
