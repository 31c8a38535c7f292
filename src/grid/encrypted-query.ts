/**
 * One encrypted query of a model whose weights are shared: the input is
 * encoded and secret-shared here, the holders run the plan on their shares
 * (one run-plan command each), and only this process reconstructs the output.
 * Whatever happens, the query's input shares and a failed run's outputs are
 * freed on the holders. PublicGridNetwork.runRemoteInference and the Keras
 * cluster's `queryModel` both query this way.
 *
 * @example
 * ```ts
 * const logits = await queryEncrypted(fetchedPlan, image, [h0, h1], provider);
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import type { Plan } from "../plans/plan";
import type { AnyTensor } from "../tensors/base";
import { FixedPrecisionTensor } from "../tensors/fixed-precision";
import type { WorkerHandle } from "../tensors/handle";
import { AdditiveSharingTensor } from "../tensors/shared";

/** Runs `plan` (its state shared on `holders`) on `data`, shared here; resolves with the reconstructed output. */
export async function queryEncrypted(
  plan: Plan,
  data: tfjs.Tensor,
  holders: readonly [WorkerHandle, WorkerHandle],
  provider: WorkerHandle,
): Promise<tfjs.Tensor> {
  const shared = data.fixPrecision().share(holders[0], holders[1], { cryptoProvider: provider });
  let out: AnyTensor | undefined;
  try {
    out = plan.run(shared) as AnyTensor;
    return ((await (out as FixedPrecisionTensor).get()) as FixedPrecisionTensor).floatPrecision();
  } finally {
    for (const t of [shared, out]) if (t instanceof FixedPrecisionTensor) releaseShares(t);
  }
}

/** Frees a fixed-point tensor's shares on their holders (pipelined after what was sent before). */
function releaseShares(t: FixedPrecisionTensor): void {
  if (t.child instanceof AdditiveSharingTensor) t.child.release();
}
