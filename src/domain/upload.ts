/**
 * Turns `sy.dp.private(...)` tensors into the upload body of a dataset.
 *
 * @example
 * ```ts
 * privateUpload({ labels: sy.dp.private(tf.tensor1d([0, 1]), { min: 0, max: 1 }) });
 * // [{ key: "labels", tensor: { dtype, shape, data }, min: 0, max: 1, dataSubjects: [0, 1] }]
 * ```
 */
import { ErrorCode, TsyftError } from "../core/errors";
import { PrivateTensor } from "../dp/private";
import { tensorPayload } from "./tensor-payload";

/** An asset to upload: private data with bounds and data subjects. */
export type UploadAsset = PrivateTensor;

export function privateUpload(assets: Record<string, UploadAsset>) {
  return Object.entries(assets).map(([key, asset]) => {
    if (!(asset instanceof PrivateTensor)) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `Asset ${key}: expected sy.dp.private(tensor, { min, max, dataSubjects }), which declares the bounds ` +
          "that make its queries' noise finite.",
      );
    }
    return {
      key,
      tensor: tensorPayload(asset.tensor),
      min: asset.min,
      max: asset.max,
      dataSubjects: asset.dataSubjects,
    };
  });
}
