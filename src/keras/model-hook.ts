/**
 * What `sy.KerasHook(tf)` (and `sy.hook(tf)`) adds to tf.LayersModel and
 * tf.Sequential for Keras serving: `share(cluster)`, `serve({ numRequests })`
 * and `stop()`, PySyft 0.2's names. `share` with workers (`share(alice, bob,
 * { cryptoProvider })`) stays the plans' (plans/model-hook.ts): the cluster
 * form is told apart by its argument.
 *
 * @example
 * ```ts
 * sy.KerasHook(tf);
 * await model.share(cluster);
 * await model.serve({ numRequests: 3 });
 * await model.stop();
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import type { Hook } from "../tensors/hook";
import { TFECluster } from "./cluster";
import {
  serveShared,
  shareOnCluster,
  stopServing,
  type KerasShareOptions,
  type ServeOptions,
  type ServingReport,
  type SharedKerasModel,
} from "./serving";

declare module "@tensorflow/tfjs-layers/dist/engine/training" {
  interface LayersModel {
    /** Secret-shares the model's weights on a started TFECluster (server0 and server1; server2 deals). */
    share(cluster: TFECluster, options?: KerasShareOptions): Promise<SharedKerasModel>;
    /** Serves `numRequests` private predictions; resolves once the last is answered. */
    serve(options: ServeOptions): Promise<ServingReport>;
    /** Ends serving; the shares stay on the cluster until it stops. */
    stop(): Promise<void>;
  }
}

/** The `share` functions this module installed, so hooking twice does not wrap one in another. */
const installed = new WeakSet<object>();

/**
 * Adds share(cluster) / serve / stop to `tf.LayersModel.prototype`; call after the plans' patch. Idempotent.
 *
 * @example
 * ```ts
 * patchKerasModelPrototype(hook);   // sy.hook(tf) and sy.KerasHook(tf) do it
 * ```
 */
export function patchKerasModelPrototype(hook: Hook): void {
  const proto = hook.tf.LayersModel.prototype as tfjs.LayersModel;
  const planShare = proto.share as (this: tfjs.LayersModel, ...args: unknown[]) => unknown;
  if (installed.has(planShare)) return;
  const share = function (this: tfjs.LayersModel, ...args: unknown[]): unknown {
    if (args[0] instanceof TFECluster) return shareOnCluster(this, args[0], args[1] as KerasShareOptions | undefined);
    return planShare.apply(this, args);
  };
  installed.add(share);
  const methods: Record<string, unknown> = {
    share,
    serve(this: tfjs.LayersModel, options: ServeOptions) {
      return serveShared(this, options);
    },
    stop(this: tfjs.LayersModel) {
      return stopServing(this);
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
}
