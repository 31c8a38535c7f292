/**
 * AdditiveSharingTensor: the client's handle on a secret split among holders.
 *
 * Each holder keeps its share under the same object id. An op sends one
 * command to each holder and returns at once with the id of the result; the
 * holders run the protocol among themselves (SPMD, talking to each other and
 * to the crypto provider directly). Only `reconstruct` waits.
 */
import { getConfig, type ComparisonSetting, type ProviderKind } from "../core/config";
import { allParties, ErrorCode, ProtocolError } from "../core/errors";
import type { AttrsOf, OpName } from "../core/ops";
import type { FixedPointEncoding } from "../encoding/fixed-point";
import { reconstruct, share } from "../mpc/sharing";
import * as ring from "../ring";
import type { InputRef, SharedOpCommand, WorkerHandle } from "./handle";
import type { Hook } from "./hook";

export interface SharingGroup {
  readonly holders: readonly WorkerHandle[];
  readonly provider?: WorkerHandle;
}

export interface ShareOptions {
  /** The worker that deals correlated randomness (Beaver triples...). */
  cryptoProvider?: WorkerHandle;
}

/** Splits `share(bob, charlie, { cryptoProvider: dan })` arguments. */
export function parseShareArgs(args: ReadonlyArray<WorkerHandle | ShareOptions>): SharingGroup {
  const last = args[args.length - 1];
  const hasOptions = last !== undefined && !isWorkerHandle(last);
  const holders = (hasOptions ? args.slice(0, -1) : args) as WorkerHandle[];
  const options = (hasOptions ? last : {}) as ShareOptions;
  if (holders.length < 2 || !holders.every(isWorkerHandle)) {
    throw new ProtocolError(
      ErrorCode.INVALID_ARGUMENT,
      `share: expected at least 2 workers as share holders, then optionally { cryptoProvider }; got ${args.length} argument(s). ` +
        "Example: x.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).",
    );
  }
  const ids = holders.map((h) => h.id);
  if (new Set(ids).size !== ids.length) {
    throw new ProtocolError(
      ErrorCode.HOLDERS_MISMATCH,
      `share: each holder must be a different worker, got [${ids.join(", ")}].`,
    );
  }
  const provider = options.cryptoProvider;
  if (provider !== undefined && !isWorkerHandle(provider)) {
    throw new ProtocolError(ErrorCode.INVALID_ARGUMENT, "share: cryptoProvider must be a worker.");
  }
  if (provider && ids.includes(provider.id)) {
    throw new ProtocolError(
      ErrorCode.HOLDERS_MISMATCH,
      `share: the crypto provider ${provider.id} must not also hold a share: it knows all the triples, so it could unmask the secret.`,
    );
  }
  return { holders, provider };
}

export function isWorkerHandle(value: unknown): value is WorkerHandle {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as WorkerHandle).submit === "function" &&
    typeof (value as WorkerHandle).id === "string"
  );
}

export function describeGroup(group: SharingGroup): string {
  const holders = group.holders.map((h) => h.id).join(", ");
  return group.provider
    ? `[${holders}] with crypto provider ${group.provider.id}`
    : `[${holders}] without crypto provider`;
}

/**
 * The crypto-provider fields of a command on `group`'s shares: its provider
 * worker and the kind of provider in force where the command is sent (config
 * `cryptoProvider`), and how it compares (config `comparison`, `fssBits`), so
 * that every holder of the run gets its material and compares the same way.
 */
export function providerFields(group: SharingGroup): {
  provider?: string;
  providerKind?: ProviderKind;
  comparison?: ComparisonSetting;
  fssBits?: number;
} {
  if (!group.provider) return {};
  const { cryptoProvider, comparison, fssBits } = getConfig();
  return { provider: group.provider.id, providerKind: cryptoProvider, comparison, fssBits };
}

export function sameGroup(a: SharingGroup, b: SharingGroup): boolean {
  return (
    a.holders.length === b.holders.length &&
    a.holders.every((h, i) => h.id === b.holders[i]!.id) &&
    a.provider?.id === b.provider?.id
  );
}

export class AdditiveSharingTensor {
  constructor(
    readonly hook: Hook,
    readonly group: SharingGroup,
    readonly id: string,
    readonly shape: readonly number[],
  ) {}

  /** Splits a ring value and sends each holder its share. */
  static share(hook: Hook, secret: ring.RingTensor, group: SharingGroup): AdditiveSharingTensor {
    const id = hook.ids.next();
    share(secret, group.holders.length).forEach((s, i) => group.holders[i]!.store(id, { kind: "share", value: s }));
    return new AdditiveSharingTensor(hook, group, id, secret.shape);
  }

  /** Sends `op` to every holder; returns the result's handle at once. */
  run<O extends OpName>(
    op: O,
    inputs: InputRef[],
    attrs: AttrsOf<O>,
    encoding: FixedPointEncoding,
    shape: readonly number[],
  ): AdditiveSharingTensor {
    const output = this.hook.ids.next();
    const holders = this.group.holders.map((h) => h.id);
    for (const holder of this.group.holders) {
      holder.submit({
        type: "shared-op",
        op,
        inputs,
        attrs,
        output,
        holders,
        ...providerFields(this.group),
        encoding,
      } as SharedOpCommand);
    }
    return new AdditiveSharingTensor(this.hook, this.group, output, shape);
  }

  /** Fetches every share and adds them up; `remove` frees the shares. */
  async reconstruct(options: { remove: boolean }): Promise<ring.RingTensor> {
    const shares = await allParties(this.group.holders.map((h) => h.fetch(this.id, options)));
    return reconstruct(
      shares.map((s, i) => {
        if (s.kind !== "share") {
          throw new ProtocolError(
            ErrorCode.PROTOCOL_DESYNC,
            `${this.group.holders[i]!.id} holds a plaintext tensor under ${this.id}, not a share.`,
          );
        }
        return s.value;
      }),
    );
  }

  /** Frees the shares on every holder. */
  release(): void {
    for (const holder of this.group.holders) holder.release([this.id]);
  }
}
