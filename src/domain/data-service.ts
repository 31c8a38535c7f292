/**
 * What the domain does with data: uploads, pointers to assets and to results
 * of remote ops on them, `get` (only for data owners, or with an accepted
 * request), and `publish`: a Gaussian release charged to the caller's budget.
 *
 * publish({ sigma }):
 * 1. the query's L2 sensitivity from the asset's bounds and subjects (sensitivity.ts);
 * 2. its epsilon: one step of the Gaussian mechanism with noise multiplier
 *    sigma / sensitivity and sampling rate 1, by the RDP accountant, at the
 *    domain's delta;
 * 3. the noisy values computed, then the charge made in one transaction that
 *    never overspends (storage/ledger.ts); only once it committed are the
 *    values answered. Over budget: PRIVACY_BUDGET, nothing released.
 *
 * @example
 * ```ts
 * const data = new DataService(store, new AssetFiles(dataDir), { delta: 1e-5 });
 * const mean = await data.derive(user, assetId, { op: "mean", axis: [0] });
 * const released = await data.publish(user, mean.id, 0.1);   // { value, epsilon, sensitivity, budget, spent }
 * ```
 */
import { randomUUID } from "node:crypto";
import { ErrorCode, TsyftError } from "../core/errors";
import { RDPAccountant } from "../dp/accountant";
import { gaussianNoise } from "../dp/noise";
import type { DataSubject } from "../dp/private";
import type { AssetFiles } from "./asset-files";
import { applyOps, type Evaluated } from "./remote-eval";
import { can } from "./roles";
import { checkRemoteOp, outputShape, type RemoteOp } from "./remote-ops";
import { maxRowsPerSubject, querySensitivity } from "./sensitivity";
import type { AssetRecord, DatasetRecord, DomainStore, ObjectRecord, UserRecord } from "./storage";
import { payloadOf, readTensorPayload, type TensorPayload } from "./tensor-payload";

/** What a pointer points at: an asset, or a recipe on one. */
export interface Resolved {
  id: string;
  asset: AssetRecord;
  ops: RemoteOp[];
  shape: number[];
  object?: ObjectRecord;
}

/** An answered publish. */
export interface Release {
  value: TensorPayload;
  epsilon: number;
  delta: number;
  sensitivity: number;
  sigma: number;
  budget: number;
  spent: number;
}

const notFound = (id: string) =>
  new TsyftError(
    ErrorCode.NOT_FOUND,
    `No asset or object ${JSON.stringify(id)} on this domain; list them with domain.datasets.`,
  );

/** Bytes of query results kept for repeated publishes of the same object. */
const RESULT_CACHE_BYTES = 64 * 1024 * 1024;

/** The domain's data operations. */
export class DataService {
  private readonly results = new Map<string, Evaluated>();
  private resultBytes = 0;

  constructor(
    private readonly store: DomainStore,
    private readonly files: AssetFiles,
    private readonly options: { delta: number },
  ) {}

  /** Stores a dataset the owner uploaded: values checked against the declared bounds, files first, then rows. */
  async upload(owner: UserRecord, body: Record<string, unknown>): Promise<DatasetRecord> {
    const name = body.name;
    if (typeof name !== "string" || name.trim() === "") {
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, "loadDataset needs a name (a non-empty string).");
    }
    const assets = Array.isArray(body.assets) ? (body.assets as Record<string, unknown>[]) : [];
    if (assets.length === 0) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        "loadDataset needs assets: { key: sy.dp.private(tensor, ...) }.",
      );
    }
    const records: Omit<AssetRecord, "id" | "datasetId">[] = [];
    for (const asset of assets) {
      const key = String(asset.key);
      const { dtype, shape, values } = readTensorPayload(asset.tensor);
      const [min, max] = [Number(asset.min), Number(asset.max)];
      const subjects = subjectsOf(asset.dataSubjects, shape[0] ?? 0, key);
      let low = Infinity;
      let high = -Infinity;
      for (const v of values) [low, high] = [Math.min(low, v), Math.max(high, v)];
      if (!(min <= max) || (values.length > 0 && !(low >= min && high <= max))) {
        throw new TsyftError(
          ErrorCode.INVALID_ARGUMENT,
          `Asset ${key}: its values lie in [${low}, ${high}], outside the declared bounds [${min}, ${max}]; ` +
            "declare bounds that hold for every value (sy.dp.private(tensor, { min, max })).",
        );
      }
      const objectKey = `${randomUUID()}.bin`;
      await this.files.write(objectKey, { dtype, shape, values }, subjects);
      records.push({
        key,
        dtype,
        shape,
        min,
        max,
        subjectCount: new Set(subjects).size,
        maxRowsPerSubject: maxRowsPerSubject(subjects),
        objectKey,
      });
    }
    if (new Set(records.map((r) => r.key)).size !== records.length) {
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, "Asset keys must be distinct within a dataset.");
    }
    const metadata = typeof body.metadata === "object" && body.metadata !== null ? body.metadata : {};
    return this.store.datasets.create({
      name,
      description: typeof body.description === "string" ? body.description : "",
      metadata: metadata as Record<string, unknown>,
      ownerId: owner.id,
      assets: records,
    });
  }

  /** The asset or object `id` points at. */
  async resolve(id: string): Promise<Resolved> {
    const asset = await this.store.datasets.asset(id);
    if (asset) return { id, asset, ops: [], shape: asset.shape };
    const object = await this.store.datasets.object(id);
    if (!object) throw notFound(id);
    const root = await this.store.datasets.asset(object.assetId);
    if (!root) throw notFound(id);
    return { id, asset: root, ops: object.ops, shape: object.shape, object };
  }

  /** A new object: `op` applied (remotely, lazily) to what `sourceId` points at. */
  async derive(user: UserRecord, sourceId: string, op: unknown): Promise<ObjectRecord> {
    const source = await this.resolve(sourceId);
    const checked = checkRemoteOp(op, source.shape);
    const ops = [...source.ops, checked];
    return this.store.datasets.createObject({
      ownerId: user.id,
      assetId: source.asset.id,
      ops,
      shape: outputShape(source.asset.shape, ops),
    });
  }

  /** The values, for a data owner or a user with an accepted request for this object or its asset. */
  async get(user: UserRecord, id: string): Promise<TensorPayload> {
    const target = await this.resolve(id);
    const allowed =
      can(user.role, "uploadData") || (await this.store.requests.hasAccess(user.id, [target.id, target.asset.id]));
    if (!allowed) {
      throw new TsyftError(
        ErrorCode.PERMISSION,
        `You may not get() ${target.object ? "this result" : `asset ${target.asset.key}`}: its values are private. ` +
          "Ask the data owner with ptr.request({ reason }) and get() again once accepted, or release a noisy " +
          "aggregate within your privacy budget: ptr.sum() / ptr.mean(axis) then .publish({ sigma }).",
        { id, status: 403 },
      );
    }
    const { values, dtype, shape } = await this.evaluate(target);
    return payloadOf(values, shape, dtype);
  }

  /** A Gaussian release of what `id` points at, charged to `user`'s budget (see the header). */
  async publish(user: UserRecord, id: string, sigma: unknown): Promise<Release> {
    if (typeof sigma !== "number" || !(sigma > 0) || !Number.isFinite(sigma)) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        `publish needs sigma, the noise's standard deviation, a finite number > 0; got ${JSON.stringify(sigma)}.`,
      );
    }
    const target = await this.resolve(id);
    const loaded = await this.files.read(target.asset.objectKey);
    const sensitivity = querySensitivity(
      { min: target.asset.min, max: target.asset.max, shape: target.asset.shape, subjects: loaded.subjects },
      target.ops,
    );
    const delta = this.options.delta;
    const epsilon =
      sensitivity === 0
        ? 0
        : new RDPAccountant().step({ noiseMultiplier: sigma / sensitivity, sampleRate: 1 }).getEpsilon(delta);
    const { values, shape } = await this.evaluate(target);
    const noise = gaussianNoise(values.length, sigma);
    const noisy = Float32Array.from(values, (v, i) => v + noise[i]!);
    const { budget, spent } = await this.store.ledger.charge({
      userId: user.id,
      epsilon,
      delta,
      kind: "query",
      subject: id,
    });
    return { value: payloadOf(noisy, shape, "float32"), epsilon, delta, sensitivity, sigma, budget, spent };
  }

  /** The values a pointer stands for, without a permission check: for the domain's own use (training jobs). */
  async values(id: string): Promise<Evaluated> {
    return this.evaluate(await this.resolve(id));
  }

  /** Runs the recipe on the asset's values; results of derived objects are kept (both are immutable). */
  private async evaluate(target: Resolved): Promise<Evaluated> {
    const cached = this.results.get(target.id);
    if (cached) return cached;
    const result = applyOps(await this.files.read(target.asset.objectKey), target.ops);
    if (target.object && result.values.byteLength <= RESULT_CACHE_BYTES / 8) {
      this.results.set(target.id, result);
      this.resultBytes += result.values.byteLength;
      for (const [id, old] of this.results) {
        if (this.resultBytes <= RESULT_CACHE_BYTES) break;
        this.results.delete(id);
        this.resultBytes -= old.values.byteLength;
      }
    }
    return result;
  }
}

function subjectsOf(value: unknown, rows: number, key: string): DataSubject[] {
  if (value === undefined || value === null) return Array.from({ length: rows }, (_, i) => i);
  if (
    !Array.isArray(value) ||
    value.length !== rows ||
    !value.every((s) => typeof s === "string" || typeof s === "number")
  ) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `Asset ${key}: expected one data subject (string or number) per row, ${rows} in all.`,
    );
  }
  return value as DataSubject[];
}
