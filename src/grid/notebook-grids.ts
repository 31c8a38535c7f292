/**
 * Grids started from a notebook: running the grid cell again must not leave
 * the first grid's processes behind (ten processes, a cleanup cell that only
 * knows about the second grid). Inside the tsyft kernel, `startLocalGrid`
 * first stops the grid it started before with the same options, unless told
 * `replace: false`; scripts and tests, which may want several grids, are not
 * affected. Processes that outlive everything else are still covered: nodes
 * watch the pipe to their parent and exit with the kernel.
 */
import { kernelBridge } from "../core/display-protocol";

/** What the registry needs of a grid. */
interface StoppableGrid {
  gateway: { id: string };
  nodes: Array<{ id: string }>;
  stop(): Promise<void>;
}

/** The options that make two calls "the same grid cell". */
export interface GridKeyOptions {
  ports?: string;
  nodes?: readonly string[];
  dataDir?: string;
  inProcess?: boolean;
  host?: string;
  detach?: boolean;
  /** false: keep earlier grids running; a string: replace the grid started under that name. */
  replace?: boolean | string;
}

const started = new Map<string, StoppableGrid>();

/** The key under which a grid started with `options` replaces an earlier one, or undefined (no replacing). */
export function notebookGridKey(options: GridKeyOptions): string | undefined {
  if (options.replace === false || options.detach === true) return undefined;
  if (typeof options.replace === "string") return `name:${options.replace}`;
  if (!kernelBridge()) return undefined;
  const { ports, nodes, dataDir, inProcess, host } = options;
  return JSON.stringify({ ports, nodes, dataDir, inProcess, host });
}

/** Stops the grid started earlier under `key`, saying so in the cell's output. */
export async function stopEarlierGrid(key: string | undefined): Promise<void> {
  const earlier = key === undefined ? undefined : started.get(key);
  if (!earlier || key === undefined) return;
  started.delete(key);
  await earlier.stop();
  const members = [earlier.gateway, ...earlier.nodes].map((m) => m.id).join(", ");
  console.log(`startLocalGrid: stopped the grid started here before (${members}), so only one runs.`);
}

/** Records `grid` under `key`; stopping it removes it. Returns the grid. */
export function rememberGrid<T extends StoppableGrid>(key: string | undefined, grid: T): T {
  if (key === undefined) return grid;
  started.set(key, grid);
  const stop = grid.stop.bind(grid);
  grid.stop = async () => {
    if (started.get(key) === grid) started.delete(key);
    await stop();
  };
  return grid;
}
