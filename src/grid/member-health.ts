/**
 * One line of `tsyft grid status`: how a grid member answers its health check
 * ("up, 3 objects, peers [alice, charlie]", "up, 4 nodes joined",
 * "unhealthy (503)" or "down").
 *
 * @example
 * ```ts
 * await memberHealth({ id: "bob", role: "node", port: 3000, url: "ws://localhost:3000" });   // "up, 0 objects, peers []"
 * ```
 */
import { httpJson } from "./http-util";
import type { GridMember } from "./local-grid";

/** Asks `member`'s /health on this machine (2 s at most); `ca` verifies an https member. */
export async function memberHealth(member: GridMember, ca?: string): Promise<string> {
  try {
    const scheme = /^(wss|https):/.test(member.url) ? "https" : "http";
    const { status, body } = await httpJson<{ objects?: number; peers?: string[]; nodes?: number }>(
      "GET",
      `${scheme}://127.0.0.1:${member.port}/health`,
      undefined,
      { timeoutMs: 2_000, ca },
    );
    if (status !== 200) return `unhealthy (${status})`;
    return member.role === "node"
      ? `up, ${body.objects} objects, peers [${(body.peers ?? []).join(", ")}]`
      : `up, ${body.nodes} nodes joined`;
  } catch {
    return "down";
  }
}
