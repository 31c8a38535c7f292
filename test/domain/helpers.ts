/** Shared by the domain's tests. */
import { expect } from "vitest";
import { TsyftError } from "../../src/core/errors";

/** The TsyftError a promise rejects with (failing the test when it resolves or rejects with something else). */
export async function failure(promise: Promise<unknown>): Promise<TsyftError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TsyftError);
  return error as TsyftError;
}
