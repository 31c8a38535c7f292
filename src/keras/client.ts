/**
 * The private prediction client of Keras serving (PySyft 0.2's
 * `client.connect_to_model(input_shape, output_shape, cluster)` and
 * `client.query_model(image)`).
 *
 * The client is anonymous to the servers (anyone may query a served model,
 * as in the original); server0 and server1 enforce what it may do: run exactly
 * the served plan's IR over the weight shares, within the count `serve` set.
 * A query is the grid's encrypted query (grid/encrypted-query.ts): the image
 * is secret-shared here to server0 and server1, they run the model on shares
 * with server2's correlated randomness, and only this client reconstructs the
 * logits.
 *
 * @example
 * ```ts
 * const connection = await connectToModel([1, 28, 28, 1], [1, 10], cluster);
 * const logits = await connection.query(image);
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { CommunicationError, ErrorCode, TsyftError } from "../core/errors";
import type { GrantUsage, UseGrant } from "../plans/host";
import { grantKeyOf } from "../plans/host";
import { Plan } from "../plans/plan";
import { currentHook } from "../tensors/hook";
import { WebsocketGridClient } from "../grid/client";
import { queryEncrypted } from "../grid/encrypted-query";
import { sleep, waitHealthy } from "../grid/processes";
import { SERVER_IDS, type TFECluster } from "./cluster";

export interface ConnectOptions {
  /** The name the model was shared under (`model.share(cluster, { name })`). Default "model". */
  name?: string;
  /** How long to wait for the servers to answer and the model to be shared. Default 120 s. */
  timeoutMs?: number;
  /** The cluster's grid key, to verify the servers' identities (default: the key kept on this machine, if any). */
  gridKey?: string;
}

export interface QueryOptions {
  /** How long a query waits for the model to be served (`model.serve(...)`) when it is shared but not yet served. Default 120 s. */
  timeoutMs?: number;
}

type Clients = [WebsocketGridClient, WebsocketGridClient, WebsocketGridClient];

/** A client's connection to a served model. */
export class ModelConnection {
  private readonly key: Pick<UseGrant, "irHash" | "stateIds">;

  constructor(
    readonly name: string,
    private readonly plan: Plan,
    private readonly clients: Clients,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
  ) {
    this.key = grantKeyOf(plan.serialize());
  }

  /** One private prediction; resolves with the logits (shape `outputShape`). */
  async query(image: tfjs.Tensor, options: QueryOptions = {}): Promise<tfjs.Tensor> {
    if (!sameShape(image.shape, this.inputShape)) {
      throw new TsyftError(
        ErrorCode.SHAPE_MISMATCH,
        `queryModel: the model "${this.name}" was connected with input shape [${this.inputShape}], got an image of ` +
          `shape [${image.shape}]; reshape it (e.g. image.reshape([${this.inputShape}])).`,
        { expected: [...this.inputShape], got: image.shape },
      );
    }
    const timeoutMs = options.timeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const [h0, h1, provider] = this.clients;
    let logits: tfjs.Tensor;
    for (;;) {
      try {
        logits = await queryEncrypted(this.plan, image, [h0, h1], provider).catch((e: unknown) => this.refusal(e));
        break;
      } catch (error) {
        // Shared but not served yet (the serving notebook may not have reached serve()): wait, then query again.
        if ((error as TsyftError).code !== ErrorCode.MODEL_NOT_SERVED) throw error;
        await this.untilServed(deadline, timeoutMs, error);
      }
    }
    if (!sameShape(logits.shape, this.outputShape)) {
      const got = logits.shape;
      logits.dispose();
      throw new TsyftError(
        ErrorCode.SHAPE_MISMATCH,
        `queryModel: the model "${this.name}" answered logits of shape [${got}], not the [${this.outputShape}] connectToModel was given.`,
        { expected: [...this.outputShape], got },
      );
    }
    return logits;
  }

  /**
   * A failed query as the servers decided it: server0's refusal (its count is full, or serving stopped) keeps its
   * code, whether it came from server0 itself or as server1's abort of the run; anything else is rethrown as is.
   */
  private async refusal(error: unknown): Promise<never> {
    const details = (error as TsyftError).details ?? {};
    const code = [details.cause, (error as TsyftError).code].find(
      (c): c is ErrorCode => c === ErrorCode.SERVING_LIMIT || c === ErrorCode.MODEL_NOT_SERVED,
    );
    if (code !== undefined) {
      // The server's own words, without the "Op ... failed on server0:" wrapping of a failed command.
      const message = /failed on \S+: ([\s\S]*)$/.exec((error as Error).message)?.[1] ?? (error as Error).message;
      throw new TsyftError(code, message, { ...details }, { cause: error });
    }
    const usage = await this.clients[0].grantUsage(this.key).catch(() => null);
    // server1's abort of a run server0 refused carries server0's message but not its code: ask server0's count.
    if (usage?.maxRuns !== undefined && usage.served + usage.inFlight >= usage.maxRuns) {
      throw new TsyftError(
        usage.maxRuns === 0 ? ErrorCode.MODEL_NOT_SERVED : ErrorCode.SERVING_LIMIT,
        usage.maxRuns === 0
          ? `Model "${this.name}" stopped being served while this query ran.`
          : `Model "${this.name}" served its ${usage.maxRuns} requests (or is answering the last of them); server0 refused this query.`,
        { served: usage.served, maxRuns: usage.maxRuns },
        { cause: error },
      );
    }
    throw error;
  }

  /**
   * Offline phase: has server2 deal now the correlated randomness of the next `queries` queries (as TF Encrypted's
   * crypto producer ran ahead of serving), so that those queries only talk holder to holder. Resolves with the
   * number of pieces dealt. Queries beyond them deal as they go.
   */
  async preprocess(queries: number): Promise<number> {
    if (!Number.isSafeInteger(queries) || queries < 1) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `preprocess: expected a positive number of queries, got ${JSON.stringify(queries)}.`,
      );
    }
    return this.plan.preprocess(queries, [...this.inputShape]);
  }

  /** Bytes this client sent to and received from the three servers so far. */
  get traffic(): { bytesSent: number; bytesReceived: number } {
    return {
      bytesSent: this.clients.reduce((n, c) => n + c.traffic.bytesSent, 0),
      bytesReceived: this.clients.reduce((n, c) => n + c.traffic.bytesReceived, 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }

  /**
   * Waits while the model is shared but not served (server0's grant admits no query); fails at once when it served
   * all its requests, and with `refused` at the deadline.
   */
  private async untilServed(deadline: number, timeoutMs: number, refused: unknown): Promise<void> {
    for (;;) {
      const usage: GrantUsage | null = await this.clients[0].grantUsage(this.key);
      if (usage === null) {
        throw new TsyftError(
          ErrorCode.MODEL_NOT_SERVED,
          `Model "${this.name}" is no longer shared on the cluster (another model replaced it, or the cluster restarted); connect again.`,
        );
      }
      if (usage.maxRuns !== 0) return;
      if (Date.now() > deadline) {
        throw new TsyftError(
          ErrorCode.MODEL_NOT_SERVED,
          `Model "${this.name}" is shared but was not served within ${timeoutMs} ms: its owner calls ` +
            "model.serve({ numRequests }) to serve it.",
          {},
          { cause: refused },
        );
      }
      await sleep(100);
    }
  }
}

/**
 * Connects to the model served on `cluster`: see the file's header. Waits up
 * to `timeoutMs` for the servers and for the model to be shared.
 *
 * @example
 * ```ts
 * const connection = await connectToModel([1, 28, 28, 1], [1, 10], cluster, { name: "model" });
 * ```
 */
export async function connectToModel(
  inputShape: readonly number[],
  outputShape: readonly number[],
  cluster: TFECluster,
  options: ConnectOptions = {},
): Promise<ModelConnection> {
  for (const [what, shape] of [
    ["inputShape", inputShape],
    ["outputShape", outputShape],
  ] as const) {
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `connectToModel: expected ${what} as positive integers, e.g. [1, 28, 28, 1], got ${JSON.stringify(shape)}.`,
      );
    }
  }
  const name = options.name ?? "model";
  const timeoutMs = options.timeoutMs ?? 120_000;
  const hook = currentHook();
  const deadline = Date.now() + timeoutMs;
  await untilServersAnswer(cluster, deadline, timeoutMs);
  // Read once the servers answer: a client started beside the serving notebook may get here before its
  // cluster.start() has written the credentials, and would then skip checking the servers' identities.
  const gridKey = options.gridKey ?? cluster.gridKey;
  const clients = cluster.addresses.map(
    (a, i) => new WebsocketGridClient(hook, a.url, { id: SERVER_IDS[i], token: null, ...(gridKey && { gridKey }) }),
  ) as Clients;
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const bytes = await untilShared(clients[0], name, cluster, deadline, timeoutMs);
    const plan = Plan.fromBytes(bytes, hook);
    const ir = plan.serialize().ir;
    const lastOutput = ir.ops.find((op) => op.output === ir.outputs[0]);
    checkShape("input", inputShape, ir.inputs[0]?.shape, name);
    checkShape("output", outputShape, lastOutput?.shape, name);
    return new ModelConnection(name, plan, clients, [...inputShape], [...outputShape]);
  } catch (error) {
    await Promise.all(clients.map((c) => c.close()));
    throw error;
  }
}

/** Waits for the three servers' /health (the serving notebook may still be starting them). */
async function untilServersAnswer(cluster: TFECluster, deadline: number, timeoutMs: number): Promise<void> {
  await Promise.all(
    cluster.addresses.map(async (a, i) => {
      try {
        await waitHealthy(a.healthUrl, Math.max(0, deadline - Date.now()));
      } catch {
        throw new CommunicationError(
          ErrorCode.TIMEOUT,
          `${SERVER_IDS[i]} (${cluster.workers[i]!.host}) did not answer within ${timeoutMs} ms: start the cluster ` +
            "(await cluster.start()) in the serving notebook first.",
          { worker: SERVER_IDS[i] },
        );
      }
    }),
  );
}

/** The served plan's bytes from server0, once the model is shared there (or the deadline). */
async function untilShared(
  server0: WebsocketGridClient,
  name: string,
  cluster: TFECluster,
  deadline: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  for (;;) {
    try {
      return await server0.fetchPlanBytes(name, { copy: true });
    } catch (error) {
      // Anything but "not shared yet" (refused, malformed...) is final.
      if ((error as TsyftError).code !== ErrorCode.OBJECT_NOT_FOUND) throw error;
    }
    if (Date.now() > deadline) {
      const servers = cluster.workers.map((w) => w.host).join(", ");
      throw new TsyftError(
        ErrorCode.MODEL_NOT_SERVED,
        `No model "${name}" was shared on the cluster (${servers}) within ${timeoutMs} ms: call ` +
          "await model.share(cluster) in the serving notebook (and connect with the name it was shared under).",
      );
    }
    await sleep(250);
  }
}

function checkShape(
  what: string,
  given: readonly number[],
  planned: readonly number[] | undefined,
  name: string,
): void {
  // The plan runs on any batch size: the sizes after the batch dimension decide.
  if (planned !== undefined && sameShape(given.slice(1), planned.slice(1))) return;
  throw new TsyftError(
    ErrorCode.SHAPE_MISMATCH,
    `connectToModel: model "${name}" takes ${what}s of shape [batch, ${planned?.slice(1)}], got ${what}Shape [${given}].`,
    { expected: planned ?? null, got: [...given] },
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
