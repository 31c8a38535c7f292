/**
 * What a domain client shows: the datasets (Idx | Name | Description | Assets |
 * Id), one dataset's assets (Asset Key | Type | Shape), users (Name | Email |
 * Role | Budget | Spent | Created at), each rendering itself in
 * notebooks through the `Symbol.for("tsyft.display")` protocol.
 *
 * @example
 * ```ts
 * const datasets = await domain.datasets;   // renders the table
 * const images = datasets[0]!["train_images"];   // an AssetPointer
 * ```
 */
import { DISPLAY, type MimeBundle } from "../core/display-protocol";
import type { DomainHttp } from "./client-http";
import { AssetPointer, type PointerInfo } from "./pointer";
import type { PublicUser } from "./session-auth";
import { htmlTable } from "./views-table";

/** A dataset as the domain lists it. */
export interface DatasetInfo {
  id: string;
  name: string;
  description: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  assets: PointerInfo["asset"][];
}

/** One dataset: its fields, and each asset as a pointer under its key (`dataset["train_images"]`). */
export class DatasetView {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly metadata: Record<string, unknown>;
  readonly pointers: readonly AssetPointer[];

  constructor(http: DomainHttp, info: DatasetInfo) {
    this.id = info.id;
    this.name = info.name;
    this.description = info.description;
    this.metadata = info.metadata;
    this.pointers = info.assets.map(
      (asset) => new AssetPointer(http, { id: asset.id, shape: asset.shape, dtype: asset.dtype, asset, ops: [] }),
    );
  }

  /** The pointer to the asset `key` (also `dataset[key]`, unless the key is one of this object's own names). */
  asset(key: string): AssetPointer | undefined {
    return this.pointers.find((p) => p.key === key);
  }

  [DISPLAY](): MimeBundle {
    return htmlTable(
      ["Asset Key", "Type", "Shape"],
      this.pointers.map((p) => [`["${p.key}"]`, p.dtype, pythonShape(p.shape)]),
      `Dataset: ${this.name}`,
    );
  }
}

/** A dataset whose assets are also reachable as `dataset["key"]`. */
export type Dataset = DatasetView & { readonly [key: string]: AssetPointer };

/**
 * A dataset view with its asset pointers as properties.
 *
 * @example
 * ```ts
 * datasetOf(http, info)["train_images"].shape;
 * ```
 */
export function datasetOf(http: DomainHttp, info: DatasetInfo): Dataset {
  const view = new DatasetView(http, info);
  const byKey: Record<string, AssetPointer> = {};
  for (const pointer of view.pointers) if (!(pointer.key in view)) byKey[pointer.key] = pointer;
  return Object.assign(view, byKey);
}

/** The datasets of a domain: an array that renders as PySyft's table. */
export class DatasetList extends Array<Dataset> {
  static override get [Symbol.species]() {
    return Array;
  }

  [DISPLAY](): MimeBundle {
    return htmlTable(
      ["Idx", "Name", "Description", "Assets", "Id"],
      this.map((d, i) => [
        i,
        d.name,
        d.description,
        d.pointers.map((p) => `["${p.key}"] -> ${p.dtype}`).join("\n"),
        d.id,
      ]),
    );
  }
}

/** The users of a domain (Owner, Administrator and Compliance Officer see them). */
export class UserList extends Array<PublicUser> {
  static override get [Symbol.species]() {
    return Array;
  }

  [DISPLAY](): MimeBundle {
    return htmlTable(
      ["Name", "Email", "Role", "Budget", "Spent", "Created at"],
      this.map((u) => [u.name, u.email, u.role, u.budget, u.spent, u.createdAt]),
    );
  }
}

/** A shape as PySyft printed it, a Python tuple: (12,), (12, 2, 2). */
function pythonShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}
