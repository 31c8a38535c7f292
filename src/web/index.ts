/**
 * tsyft in the browser (the bundle dist/web/tsyft.js, served by the gateway at /tsyft.js): the same
 * source as the Node library, client side only: the hook, fixed point, additive sharing (shares from
 * the browser's crypto.getRandomValues), the WebSocket grid client, PublicGridNetwork with
 * runRemoteInference, and TensorFlow.js. Node-only modules are swapped for the browser's by
 * scripts/build-web.mjs (src/web/node/); servers, the CLI, the database and the kernel are not in it.
 *
 * @example
 * ```ts
 * import { tf, hook, PublicGridNetwork } from "/tsyft.js";
 * const grid = new PublicGridNetwork(hook(tf), location.origin, { token: null });
 * const logits = await grid.runRemoteInference("linear", tf.tensor([[1, 2]]), { mpc: true });
 * ```
 */
import * as tf from "@tensorflow/tfjs";
import { Hook, activateHook } from "../tensors/hook";
import { patchTensorPrototype } from "../tensors/patch";
import { patchModelPrototype } from "../plans/model-hook";
import type { TF } from "../tensors/plain-ops";
import { VirtualWorker } from "../workers/virtual-worker";

export { tf };
export * from "../core/errors";
export { configure, getConfig, presets } from "../core/config";
export { Hook } from "../tensors/hook";
export { FixedPrecisionTensor } from "../tensors/fixed-precision";
export { AdditiveSharingTensor } from "../tensors/shared";
export { VirtualWorker } from "../workers/virtual-worker";
export { Plan } from "../plans/plan";
export { WebsocketGridClient } from "../grid/client";
export { GatewayClient } from "../grid/gateway-client";
export { PublicGridNetwork, type PublicGridOptions, type RemoteInferenceOptions } from "../grid/public-grid";
export { tapClientLinks } from "../grid/traffic-tap";
export type { HostedModelInfo } from "../grid/model-registry";

/**
 * The hook, as `sy.hook(tf)` makes it in Node (tensors get fixPrecision/share/send, models become
 * Plans, the local worker "me"), without the notebook displays and Keras serving the page does not use.
 *
 * @example
 * ```ts
 * const h = hook(tf);
 * tf.tensor([1.5]).fixPrecision().share(alice, bob, { cryptoProvider: carol });
 * ```
 */
export function hook(tfjs: TF): Hook & { localWorker: VirtualWorker } {
  const created = new Hook(tfjs);
  activateHook(created);
  patchTensorPrototype(created);
  patchModelPrototype(created);
  created.localWorker = new VirtualWorker(created, { id: "me" });
  return created as Hook & { localWorker: VirtualWorker };
}
