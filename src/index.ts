/**
 * tsyft: privacy-preserving machine learning for TypeScript notebooks.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import * as sy from "tsyft";
 *
 * const hook = sy.hook(tf);
 * const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
 * const xSh = tf.tensor([1.5, -2.25]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
 * const y = xSh.mul(xSh).add(xSh);
 * (await y.get()).floatPrecision().print();   // [3.75, 2.8125]
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { Hook, activateHook } from "./tensors/hook";
// Side-effect imports kept in index.d.ts, so that `tf.Tensor#fixPrecision/share/send` and
// `tf.LayersModel#fixPrecision/share` (their `declare module` blocks) type-check for users of the package.
import "./tensors/patch";
import "./plans/model-hook";
import { patchTensorPrototype } from "./tensors/patch";
import { patchModelPrototype } from "./plans/model-hook";
import "./keras/model-hook";
import { patchKerasModelPrototype } from "./keras/model-hook";
import type { TF } from "./tensors/plain-ops";
import { VirtualWorker } from "./workers/virtual-worker";
import { registerWasmTrainingKernels } from "./data/wasm-training";
import { installDisplays } from "./display/install";

export * from "./core/errors";
export {
  configure,
  getConfig,
  withConfig,
  presets,
  PROVIDER_KINDS,
  COMPARISONS,
  type Config,
  type ProviderKind,
  type ComparisonSetting,
} from "./core/config";
export { DISPLAY, type MimeBundle, type Displayable } from "./core/display-protocol";
export { Op, type OpName } from "./core/ops";
export { type FixedPointEncoding, type FixedPointOptions } from "./encoding/fixed-point";
export { Hook } from "./tensors/hook";
export {
  TsyftTensor,
  type TensorLike,
  type AnyTensor,
  type Operand,
  type OpResult,
  type Conv2dOptions,
} from "./tensors/base";
export { FixedPrecisionTensor } from "./tensors/fixed-precision";
export { AdditiveSharingTensor, type ShareOptions, type SharingGroup } from "./tensors/shared";
export { PointerTensor } from "./tensors/pointer";
export { F } from "./tensors/functional";
export type { WorkerHandle, Command, StoredValue } from "./tensors/handle";
export { Worker, type PeerTransport, type WorkerStats } from "./workers/worker";
export { accessOf, principalId, type Access, type Caller, type Principal } from "./workers/caller";
export { ADMIN_OWNER, ObjectStore } from "./workers/object-store";
export type { UseGrant } from "./workers/grants";
export { VirtualWorker, type VirtualWorkerOptions } from "./workers/virtual-worker";
export { InProcessNetwork, networkOf, type Tap, type TapEvent } from "./workers/in-process";
export { WorkerClient, type ObjectsApi } from "./workers/client";
export * from "./plans";
/** Datasets, splits, loaders, transforms and chart specs (HAM10000, MNIST, IDC breast-cancer patches). */
export * as data from "./data";
/** Differential privacy: RDPAccountant, Gaussian noise, clipAndNoise, private(tensor, bounds) (src/dp). */
export * as dp from "./dp";
/** The remote-training model API and DP-SGD training core: sy.nn.Model, layers, trainModel (src/nn). */
export * as nn from "./nn";
/** The networked grid: nodes, WebsocketGridClient, connectAllNodes, gateway, startLocalGrid (src/grid). */
export * as grid from "./grid";
export { PublicGridNetwork } from "./grid/public-grid";
export { PlaceholderTensor } from "./tensors/placeholder";
/** The domain node: accounts, private datasets behind pointers, requests, a privacy budget (src/domain). */
export * as domain from "./domain";
export { login, DomainClient, AssetPointer } from "./domain";
/** Syft-Keras secure serving: TFEWorker, TFECluster, model.share(cluster) / serve / stop (src/keras). */
export * as keras from "./keras";
export { TFEWorker, TFECluster, type TFEWorkerOptions, type TFEClusterOptions } from "./keras";
/** Rich notebook output: sy.display, sy.table, sy.vegaLite, sy.progress, sy.html (src/display). */
export * from "./display";

/** The hook `sy.hook(tf)` returns: its local worker is a VirtualWorker (PySyft's `me`). */
export type SyHook = Hook & { readonly localWorker: VirtualWorker };

/**
 * Hooks TensorFlow.js (PySyft's `sy.TorchHook(torch)`): adds `send`,
 * `fixPrecision`/`fixPrec` and `share` to tf tensors, `fixPrecision`/`fixPrec`
 * and `share` to tf.LayersModel and tf.Sequential (they give a Plan), and
 * makes the local worker `hook.localWorker` (id "me"). Tensors then render as
 * tables in notebooks (it calls `sy.installDisplays(tf)`).
 *
 * @example
 * ```ts
 * const hook = sy.hook(tf);
 * const me = hook.localWorker;
 * ```
 */
export function hook(tf: TF): SyHook {
  const created = new Hook(tf);
  activateHook(created);
  patchTensorPrototype(created);
  patchModelPrototype(created);
  patchKerasModelPrototype(created);
  created.localWorker = new VirtualWorker(created, { id: "me" });
  // PySyft's hook is all a notebook calls: tensors render as tables from here on, without sy.installDisplays.
  installDisplays(tf);
  return created as SyHook;
}

/**
 * PySyft 0.2's `sy.KerasHook(tf.keras)`: the same as `sy.hook(tf)`, which also
 * adds `share(cluster)`, `serve({ numRequests })` and `stop()` to tf.Sequential
 * and tf.LayersModel for Keras serving on a TFECluster.
 *
 * @example
 * ```ts
 * const hook = sy.KerasHook(tf);
 * await model.share(cluster);
 * ```
 */
export function KerasHook(tf: TF): SyHook {
  return hook(tf);
}

/**
 * Switches TensorFlow.js to its WebAssembly backend (about 10x the pure-JS
 * CPU backend on this kind of machine). Call once, before heavy plaintext work.
 * Also registers the kernels the wasm backend lacks for training CNNs
 * (`Conv2DBackpropFilter`, see `sy.data.registerWasmTrainingKernels`), so
 * `model.fit` works on it.
 *
 * @example
 * ```ts
 * await sy.useWasmBackend(tf);
 * ```
 */
export async function useWasmBackend(tf: typeof tfjs): Promise<string> {
  require("@tensorflow/tfjs-backend-wasm");
  registerWasmTrainingKernels(tf);
  await tf.setBackend("wasm");
  await tf.ready();
  return tf.getBackend();
}
