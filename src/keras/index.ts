/**
 * Syft-Keras secure serving (PySyft 0.2's `sy.KerasHook`, `sy.TFEWorker`,
 * `sy.TFECluster`): a Keras-style model secret-shared over three tsyft node
 * processes, serving private predictions to clients that share their inputs.
 * The grid's machinery under PySyft's names: the servers are grid nodes, the
 * shared model is a shared Plan, the queries run like runRemoteInference.
 */
export { TFEWorker, parseHost, type TFEWorkerOptions, type ServerAddress } from "./worker";
export { TFECluster, SERVER_IDS, type TFEClusterOptions } from "./cluster";
export {
  SharedKerasModel,
  shareOnCluster,
  serveShared,
  stopServing,
  sharedOnCluster,
  type KerasShareOptions,
  type ServeOptions,
  type ServingReport,
} from "./serving";
export { ModelConnection, connectToModel, type ConnectOptions, type QueryOptions } from "./client";
export { patchKerasModelPrototype } from "./model-hook";
