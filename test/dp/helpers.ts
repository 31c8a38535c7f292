import { TsyftError } from "../../src/core/errors";

/** Runs `attempt` and returns the TsyftError it throws; fails the test when it throws nothing or something else. */
export function thrown(attempt: () => unknown): TsyftError {
  try {
    attempt();
  } catch (error) {
    if (error instanceof TsyftError) return error;
    throw error;
  }
  throw new Error("expected a TsyftError, nothing was thrown");
}
