/**
 * A tap on this process's client links: each frame a grid client sends or
 * receives (its node sockets, and its HTTP calls to the gateway), in the order
 * they happened, for tests and benchmarks that count round trips from the
 * traffic rather than from timings. Nothing is recorded while nobody listens.
 *
 * A round trip is a run of sends that a receive follows: the client sent, then
 * got something back before it sent again. Sends after the last receive (e.g.
 * freeing a query's shares, answered by nothing the query waits for) are no
 * round trip.
 *
 * @example
 * ```ts
 * const events: LinkEvent[] = [];
 * const stop = tapClientLinks((e) => events.push(e));
 * await net.runRemoteInference("toy", x, { mpc: true });
 * stop();
 * countRoundTrips(events);   // 1 for the linear toy, placement cached
 * ```
 */

/** One frame on one of this process's client links. */
export interface LinkEvent {
  direction: "sent" | "received";
  /** The node's id, or "gateway" for an HTTP call. */
  link: string;
  /** What travelled: a channel name ("request", "reply", "control") or "http". */
  kind: string;
  bytes: number;
}

type Listener = (event: LinkEvent) => void;

const listeners = new Set<Listener>();

/**
 * Calls `listener` with every frame this process's clients send or receive from now on; returns what stops it.
 *
 * @example
 * ```ts
 * const stop = tapClientLinks((e) => console.log(e.direction, e.link, e.bytes));
 * ```
 */
export function tapClientLinks(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Reports a frame to the listeners (a no-op while there is none). */
export function reportLinkEvent(direction: LinkEvent["direction"], link: string, kind: string, bytes: number): void {
  if (listeners.size === 0) return;
  const event: LinkEvent = { direction, link, kind, bytes };
  for (const listener of listeners) listener(event);
}

/**
 * The round trips in a sequence of link events: runs of sends that a receive follows.
 *
 * @example
 * ```ts
 * countRoundTrips([sent, sent, received, received, sent]);   // 1
 * ```
 */
export function countRoundTrips(events: readonly LinkEvent[]): number {
  let trips = 0;
  let sending = false;
  for (const event of events) {
    if (event.direction === "sent") sending = true;
    else if (sending) {
      trips++;
      sending = false;
    }
  }
  return trips;
}
