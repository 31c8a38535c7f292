/**
 * The embedded IDC subset, `data/embedded/idc-400-32px/` in the repository: 400 of the full subset's patches as one
 * derived image, so the domain tutorials run on a fresh clone with no data directory.
 *
 * `scripts/make-embedded-idc.mjs` made it with the loader itself: each patch padded to 50x50 with white (as
 * `padPatch` in idc.ts does) and resized to 32x32 with the `resize` transform, quantized to 8 bits (round(v * 255))
 * and laid out as the tiles of `patches.png`, a 640x640 RGB PNG, 20 tiles per row in index order (tile i at column
 * i % 20, row floor(i / 20)). `index.csv` has the patches' rows with their `tile`. The PNG is pinned in
 * data/checksums.json, so one sha256 checks every tile at once.
 */
import * as path from "node:path";
import { DataError, ErrorCode } from "../core/errors";
import { verifyFiles } from "./checksums";
import { loadImageWithShape } from "./image";
import { packageRoot } from "./paths";
import { resize } from "./transforms";

/** Side of the embedded copy's tiles, in pixels: loading it at a larger size is refused. */
export const IDC_EMBEDDED_SIZE = 32;

/** The embedded copy's folder, relative to the package's `data/`. */
export const EMBEDDED = "embedded/idc-400-32px";
const SPRITE = "patches.png";
const TILES_PER_ROW = 20;

/** The embedded copy's folder, absolute. */
export function embeddedFolder(): string {
  return path.join(packageRoot(), "data", ...EMBEDDED.split("/"));
}

/**
 * Where a tile's pixels are, as `readIdcIndex` reports it in `path`: `<folder>/patches.png#<tile>`.
 *
 * @example
 * ```ts
 * tilePath("/repo/data/embedded/idc-400-32px", 7);   // "/repo/data/embedded/idc-400-32px/patches.png#7"
 * ```
 */
export function tilePath(folder: string, tile: number): string {
  return `${path.join(folder, SPRITE)}#${tile}`;
}

/**
 * Reads the tiles that `paths` (from {@link tilePath}) point at, from `patches.png` read once, as `[n, size, size, 3]`
 * floats in [0, 1]: the 8-bit values / 255, resized from 32x32 with the `resize` transform when `size` is smaller.
 * `checksums` checks the PNG's sha256 against data/checksums.json first.
 *
 * Throws a {@link DataError}: `TSYFT_ERR_DATA_MISSING` when the PNG is absent, `TSYFT_ERR_DATA_CHECKSUM` when its
 * sha256 differs or it has no tile where the index says.
 */
export async function readEmbeddedTiles(paths: readonly string[], size: number, checksums: boolean): Promise<Float32Array> {
  const [sprite] = await verifyFiles([`${EMBEDDED}/${SPRITE}`], { dir: path.join(packageRoot(), "data"), dataset: "idc_embedded", checksums });
  const { image, shape } = await loadImageWithShape(sprite!.path, { cache: false });
  const [height, width] = shape;
  const side = IDC_EMBEDDED_SIZE;
  const capacity = width === TILES_PER_ROW * side ? TILES_PER_ROW * Math.floor(height / side) : 0;
  const tiles = paths.map((file) => Number(file.slice(file.lastIndexOf("#") + 1)));
  const bad = tiles.findIndex((tile) => !(Number.isInteger(tile) && tile >= 0 && tile < capacity));
  if (bad >= 0) {
    throw new DataError(
      ErrorCode.DATA_CHECKSUM,
      `${sprite!.path} is ${width}x${height} pixels, with room for ${capacity} tiles of ${side}x${side} (${TILES_PER_ROW} per row); ` +
        `the index points at ${paths[bad]}. The PNG or index.csv has been changed: restore them with git checkout -- data/embedded.`,
      { path: sprite!.path, width, height, tile: paths[bad]! },
    );
  }
  const tileValues = side * side * 3;
  const out = new Float32Array(paths.length * size * size * 3);
  tiles.forEach((tile, i) => {
    const [left, top] = [(tile % TILES_PER_ROW) * side, Math.floor(tile / TILES_PER_ROW) * side];
    const cut = new Float32Array(tileValues);
    for (let y = 0; y < side; y++) {
      const from = ((top + y) * width + left) * 3;
      cut.set(image.subarray(from, from + side * 3), y * side * 3);
    }
    out.set(size === side ? cut : resize(size)({ image: cut, shape: [side, side, 3], label: 0 }).image, i * size * size * 3);
  });
  return out;
}
