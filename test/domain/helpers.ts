/** Shared by the domain's tests. */
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import * as sy from "../../src";
import { TsyftError } from "../../src/core/errors";
import type { DomainClient } from "../../src/domain";

/** The TsyftError a promise rejects with (failing the test when it resolves or rejects with something else). */
export async function failure(promise: Promise<unknown>): Promise<TsyftError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TsyftError);
  return error as TsyftError;
}

/**
 * Uploads "points" as `owner`: n points in [0, 1]^4 (a fixed pattern), labelled by whether their sum passes 2, as
 * assets x and y. Answers the tensors (the caller disposes them): the oracle of what the domain holds.
 */
export async function uploadPoints(
  owner: DomainClient,
  n: number,
): Promise<{ points: tf.Tensor2D; labels: tf.Tensor1D }> {
  const features = Array.from({ length: 4 * n }, (_, i) => ((i * 37) % 101) / 100);
  const points = tf.tensor2d(features, [n, 4]);
  const labels = tf.tensor1d(
    Array.from({ length: n }, (_, i) => (features.slice(4 * i, 4 * i + 4).reduce((a, b) => a + b) > 2 ? 1 : 0)),
    "int32",
  );
  await owner.loadDataset({
    name: "points",
    assets: { x: sy.dp.private(points, { min: 0, max: 1 }), y: sy.dp.private(labels, { min: 0, max: 1 }) },
  });
  return { points, labels };
}
