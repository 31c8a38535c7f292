/**
 * TFEWorker: one of the three servers of a Keras serving cluster, or (without
 * a host) the client that queries it; PySyft 0.2's `sy.TFEWorker(host=...,
 * auto_managed=...)`. A server worker is a tsyft node process; a client
 * worker shares its input with the servers and is the only one that sees the
 * prediction.
 *
 * @example
 * ```ts
 * const alice = new sy.TFEWorker({ host: "localhost:4000", autoManaged: true });
 * const client = new sy.TFEWorker();
 * await client.connectToModel([1, 28, 28, 1], [1, 10], cluster);
 * const logits = await client.queryModel(image);
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, TsyftError } from "../core/errors";
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import type { TFECluster } from "./cluster";
import { connectToModel, type ConnectOptions, type ModelConnection, type QueryOptions } from "./client";

export interface TFEWorkerOptions {
  /** `host:port` (or a ws:// or wss:// url) of the server; left out for a client. */
  host?: string;
  /** `cluster.start()` launches this server as a child process (true, the default), else prints how to. */
  autoManaged?: boolean;
}

/** Where a server listens. */
export interface ServerAddress {
  hostname: string;
  port: number;
  /** ws:// (or wss://) url of the node. */
  url: string;
  /** http(s):// url of its /health. */
  healthUrl: string;
}

export class TFEWorker {
  readonly host?: string;
  readonly autoManaged: boolean;
  readonly address?: ServerAddress;
  private connection?: ModelConnection;

  constructor(options: TFEWorkerOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `TFEWorker: expected options { host?: "localhost:4000", autoManaged?: boolean }, got ${JSON.stringify(options)}.`,
      );
    }
    this.autoManaged = options.autoManaged ?? true;
    if (options.host !== undefined) {
      this.address = parseHost(options.host);
      this.host = options.host;
    }
  }

  /** Whether this worker is a server of a cluster (it has a host). */
  get isServer(): boolean {
    return this.address !== undefined;
  }

  /**
   * Connects this client to the model served on `cluster` (PySyft's
   * `client.connect_to_model(input_shape, output_shape, cluster)`): waits,
   * up to `timeoutMs`, for the servers to answer and the model to be shared,
   * and checks the shapes against the shared model.
   */
  async connectToModel(
    inputShape: readonly number[],
    outputShape: readonly number[],
    cluster: TFECluster,
    options: ConnectOptions = {},
  ): Promise<void> {
    if (this.isServer) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `TFEWorker ${this.host} is a server of the cluster; query from a client worker: new sy.TFEWorker() (no host).`,
      );
    }
    await this.connection?.close();
    this.connection = await connectToModel(inputShape, outputShape, cluster, options);
  }

  /**
   * One private prediction (PySyft's `client.query_model(image)`): the image
   * is secret-shared to server0 and server1, which run the model on shares;
   * the logits come back as shares only this client reconstructs.
   */
  async queryModel(image: tfjs.Tensor, options: QueryOptions = {}): Promise<tfjs.Tensor> {
    if (!this.connection) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        "queryModel: this client is not connected to a model; call await client.connectToModel(inputShape, outputShape, cluster) first.",
      );
    }
    return this.connection.query(image, options);
  }

  /**
   * Deals ahead the material of this client's next `queries` queries (the offline phase; see
   * ModelConnection.preprocess), so that they run holder to holder only.
   *
   * @example
   * ```ts
   * await client.preprocess(3);
   * ```
   */
  async preprocess(queries: number): Promise<number> {
    if (!this.connection) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        "preprocess: this client is not connected to a model; call await client.connectToModel(inputShape, outputShape, cluster) first.",
      );
    }
    return this.connection.preprocess(queries);
  }

  /** Bytes this client sent to and received from the servers (zero before connectToModel). */
  get traffic(): { bytesSent: number; bytesReceived: number } {
    return this.connection?.traffic ?? { bytesSent: 0, bytesReceived: 0 };
  }

  /** Closes this client's connections to the servers. */
  async disconnect(): Promise<void> {
    await this.connection?.close();
    this.connection = undefined;
  }

  toString(): string {
    return this.isServer
      ? `TFEWorker(${this.host}${this.autoManaged ? ", auto-managed" : ""})`
      : `TFEWorker(client${this.connection ? `, connected to "${this.connection.name}"` : ""})`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.toString(), "text/html": `<code>${escapeHtml(this.toString())}</code>` };
  }
}

/**
 * The address of `host:port` (or a ws:// / wss:// url).
 *
 * @example
 * ```ts
 * parseHost("localhost:4000").url;   // "ws://localhost:4000"
 * ```
 */
export function parseHost(host: string): ServerAddress {
  const bad = () =>
    new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `TFEWorker: expected host "hostname:port" (e.g. "localhost:4000") or a ws:// url, got ${JSON.stringify(host)}.`,
    );
  if (typeof host !== "string") throw bad();
  const withScheme = /^wss?:\/\//.test(host) ? host : `ws://${host}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw bad();
  }
  const port = Number(parsed.port);
  if (!parsed.hostname || !Number.isInteger(port) || port < 1 || port > 65535 || parsed.pathname.length > 1)
    throw bad();
  const secure = parsed.protocol === "wss:";
  const hostPort = `${parsed.hostname}:${port}`;
  return {
    hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
    port,
    url: `${secure ? "wss" : "ws"}://${hostPort}`,
    healthUrl: `${secure ? "https" : "http"}://${hostPort}/health`,
  };
}
