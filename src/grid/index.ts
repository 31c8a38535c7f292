/**
 * The networked grid: nodes that run workers behind WebSockets, the clients
 * that make them workers like any other, a gateway with a node and model
 * registry, and the CLI that starts them (`tsyft node|gateway|grid`).
 *
 * @example
 * ```ts
 * const grid = await sy.grid.startLocalGrid({ ports: "random" });
 * const [alice, bob, charlie, dan] = grid.clients(hook);
 * await sy.grid.connectAllNodes([alice, bob, charlie, dan]);
 * const y = tf.tensor([1.5, -2]).fixPrecision().share(bob, charlie, { cryptoProvider: dan }).relu();
 * (await y.get()).floatPrecision().print();   // [1.5, 0]
 * await grid.stop();
 * ```
 */
export { Channel, encodeGridFrame, decodeGridFrame, channelName } from "./framing";
export { type ControlMessage } from "./control";
export { GridNode, startNode, type NodeOptions, type NodeHealth, type NodeTraffic } from "./node";
export { WebsocketGridClient, type GridClientOptions, type NodeAddress } from "./client";
export { type ClientTraffic } from "./client-link";
export { connectAllNodes } from "./connect-all";
export { PeerLinks, type LinkStats } from "./peer-links";
export { Backoff, type BackoffOptions } from "./backoff";
export { openKeyValueStore, LevelKeyValueStore, MemoryKeyValueStore, Namespace, type KeyValueStore } from "./kv-store";
export { ObjectPersistence, registerPersistedType, type PersistedTypeCodec } from "./object-persistence";
export { GatewayMembership } from "./membership";
export { Gateway, startGateway, type GatewayOptions, type GatewayHealth } from "./gateway";
export { NodeRegistry, type RegisteredNode, type NodeStatus } from "./node-registry";
export {
  ModelRegistry,
  checkModelInfo,
  type HostedModelInfo,
  type ModelPlacement,
  type ModelSearch,
} from "./model-registry";
export {
  startLocalGrid,
  stopDetachedGrid,
  readGridState,
  DEFAULT_GRID,
  type LocalGrid,
  type LocalGridOptions,
  type GridMember,
  type GridState,
} from "./local-grid";
export { main as cliMain } from "./cli";
export { GatewayClient } from "./gateway-client";
export {
  PublicGridNetwork,
  type ServeModelOptions,
  type RemoteInferenceOptions,
  type PublicGridOptions,
  type ServedModel,
} from "./public-grid";
export { type TlsOptions, CA_FILE_ENV } from "./tls";
export * from "./auth";
export { issueUserToken as issueToken } from "./auth";
export { rememberLocalGrid, forgetLocalGrid, localGridCredentials, type LocalCredentials } from "./local-credentials";
export {
  linkShape,
  LINK_LATENCY_ENV,
  LINK_BANDWIDTH_ENV,
  MAX_LINK_LATENCY_MS,
  type LinkShape,
  type LinkOptions,
} from "./link-delay";
export { tapClientLinks, countRoundTrips, type LinkEvent } from "./traffic-tap";
