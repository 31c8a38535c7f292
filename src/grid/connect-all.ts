/**
 * Links every pair of nodes (PyGrid's connect_all_nodes): after it, any two
 * of them can run a protocol together, the holders with each other and with
 * their crypto provider, without the client relaying anything.
 *
 * @example
 * ```ts
 * await sy.grid.connectAllNodes([bob, alice, charlie, dan]);
 * const xSh = x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
 * ```
 */
import type { WebsocketGridClient } from "./client";

/**
 * Connects each client that is not yet, then links every pair of their nodes (each pair once).
 *
 * @example
 * ```ts
 * await sy.grid.connectAllNodes([alice, bob, charlie, dan]);   // 6 peer links
 * ```
 */
export async function connectAllNodes(clients: readonly WebsocketGridClient[]): Promise<void> {
  await Promise.all(clients.map((c) => (c.connected ? c : c.connect())));
  const links: Promise<void>[] = [];
  for (let i = 0; i < clients.length; i++) {
    for (let j = i + 1; j < clients.length; j++) links.push(clients[i]!.connectGridNode(clients[j]!));
  }
  await Promise.all(links);
}
