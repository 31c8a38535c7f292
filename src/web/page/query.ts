/**
 * One encrypted query from the page: the input is shared here (PublicGridNetwork.runRemoteInference
 * with mpc: shares from crypto.getRandomValues), the holders compute on shares, and the logits are
 * reconstructed here. Counts what crossed each link meanwhile, so the page can show what each node got.
 *
 * @example
 * ```ts
 * const result = await encryptedQuery(grid, info, tf.tensor([[1, 2]]));
 * result.logits;   // [0.5]
 * ```
 */
import { tapClientLinks, type HostedModelInfo, type PublicGridNetwork, type tf as tfjs } from "../index";

/** What one node was sent and sent back during a query, and what it was. */
export interface LinkTraffic {
  node: string;
  role: "share holder" | "crypto provider" | "plan host" | "gateway";
  sentBytes: number;
  receivedBytes: number;
  /** What the node got of the input, in words a person reads. */
  got: string;
}

export interface QueryResult {
  logits: number[];
  shape: number[];
  ms: number;
  traffic: LinkTraffic[];
}

const WHAT_EACH_GOT: Record<LinkTraffic["role"], string> = {
  "share holder": "a share of your input: uniformly random on its own, never the input",
  "crypto provider": "nothing of your input: it deals the correlated randomness the holders use",
  "plan host": "nothing of your input: it hands out the model's plan (its ops and share ids, no weights)",
  gateway: "nothing of your input: where the model is served",
};

function roleOf(info: HostedModelInfo, node: string): LinkTraffic["role"] {
  if (info.nodes.holders.includes(node)) return "share holder";
  if (info.nodes.provider === node) return "crypto provider";
  if (info.nodes.host === node) return "plan host";
  return "gateway";
}

/**
 * Runs served mpc model `info.id` on `input`, shared in the browser; resolves with the reconstructed
 * logits, the time from sharing to the answer, and the bytes on each link.
 *
 * @example
 * ```ts
 * const { logits, ms } = await encryptedQuery(grid, info, input);
 * ```
 */
export async function encryptedQuery(
  grid: PublicGridNetwork,
  info: HostedModelInfo,
  input: tfjs.Tensor,
): Promise<QueryResult> {
  // Every node of the model is listed, also one this query sent nothing (its provider, when dealt ahead).
  const bytes = new Map<string, { sent: number; received: number }>(
    [...info.nodes.holders, ...(info.nodes.provider ? [info.nodes.provider] : [])].map((n) => [
      n,
      { sent: 0, received: 0 },
    ]),
  );
  const stop = tapClientLinks((event) => {
    const counts = bytes.get(event.link) ?? { sent: 0, received: 0 };
    counts[event.direction === "sent" ? "sent" : "received"] += event.bytes;
    bytes.set(event.link, counts);
  });
  const started = performance.now();
  let output: tfjs.Tensor;
  try {
    output = await grid.runRemoteInference(info.id, input, { mpc: true });
  } finally {
    stop();
  }
  const ms = performance.now() - started;
  const logits = Array.from(await output.data());
  const traffic = [...bytes].map(([node, { sent, received }]) => {
    const role = roleOf(info, node);
    return { node, role, sentBytes: sent, receivedBytes: received, got: WHAT_EACH_GOT[role] };
  });
  return { logits, shape: output.shape, ms, traffic };
}
