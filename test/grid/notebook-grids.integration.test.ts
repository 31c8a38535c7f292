/**
 * Re-running a notebook's grid cell: a grid started under the same key stops
 * the one started before (src/grid/notebook-grids.ts). In the kernel the key
 * is the options; here a name stands in for it, outside a kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";

const running: sy.grid.LocalGrid[] = [];

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url.replace(/^ws/, "http")}/health`);
    return response.ok;
  } catch {
    return false;
  }
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

describe("startLocalGrid({ replace })", () => {
  it("stops the grid started before under the same name, and only that one", async () => {
    const first = await sy.grid.startLocalGrid({
      ports: "random",
      inProcess: true,
      tf,
      nodes: ["bob"],
      replace: "cell",
    });
    const other = await sy.grid.startLocalGrid({
      ports: "random",
      inProcess: true,
      tf,
      nodes: ["bob"],
      replace: false,
    });
    running.push(first, other);
    expect(await healthy(first.gateway.url)).toBe(true);
    const second = await sy.grid.startLocalGrid({
      ports: "random",
      inProcess: true,
      tf,
      nodes: ["bob"],
      replace: "cell",
    });
    running.push(second);
    expect(await healthy(first.gateway.url)).toBe(false);
    expect(await healthy(first.node("bob").url)).toBe(false);
    expect(await healthy(second.gateway.url)).toBe(true);
    expect(await healthy(other.gateway.url)).toBe(true);
  });

  it("replaces nothing outside a notebook unless named", async () => {
    const a = await sy.grid.startLocalGrid({ ports: "random", inProcess: true, tf, nodes: ["bob"] });
    const b = await sy.grid.startLocalGrid({ ports: "random", inProcess: true, tf, nodes: ["bob"] });
    running.push(a, b);
    expect(await healthy(a.gateway.url)).toBe(true);
    expect(await healthy(b.gateway.url)).toBe(true);
  });
});
