/**
 * What the domain keeps in its database, and the store interface both
 * backends implement (one suite, test/domain/storage.suite.ts, holds them to it).
 */
import type { RemoteOp } from "../remote-ops";

/** PySyft 0.6's four roles; what each may do is in roles.ts. */
export type Role = "Data Scientist" | "Compliance Officer" | "Administrator" | "Owner";

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** scrypt hash with its salt and parameters (passwords.ts); never the password. */
  passwordHash: string;
  /** Total epsilon granted. */
  budget: number;
  /** Epsilon charged so far. */
  spent: number;
  createdAt: string;
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  revoked: boolean;
}

export interface AssetRecord {
  id: string;
  datasetId: string;
  key: string;
  dtype: string;
  shape: number[];
  min: number;
  max: number;
  subjectCount: number;
  maxRowsPerSubject: number;
  /** Where its values are (a file name under the data dir's assets/). */
  objectKey: string;
}

export interface DatasetRecord {
  id: string;
  name: string;
  description: string;
  metadata: Record<string, unknown>;
  ownerId: string | null;
  createdAt: string;
  /** In upload order. */
  assets: AssetRecord[];
}

/** A result of remote ops on an asset (a slice, a sum), kept as its recipe. */
export interface ObjectRecord {
  id: string;
  ownerId: string;
  assetId: string;
  ops: RemoteOp[];
  shape: number[];
  createdAt: string;
}

export type RequestKind = "data_access" | "budget";
export type RequestStatus = "pending" | "accepted" | "denied";

export interface RequestRecord {
  id: string;
  kind: RequestKind;
  userId: string;
  /** The requester's email, for the reviewer's table. */
  userEmail: string;
  /** data_access: the asset or object asked for. */
  objectId: string | null;
  /** budget: the epsilon asked for. */
  epsilon: number | null;
  reason: string;
  status: RequestStatus;
  reviewerId: string | null;
  createdAt: string;
  decidedAt: string | null;
}

export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled";

export interface JobRecord {
  id: string;
  userId: string;
  status: JobStatus;
  spec: Record<string, unknown>;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProgressRow {
  epoch: number;
  step?: number;
  loss: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** A run of DP-SGD steps with one noise multiplier and sampling rate. */
export interface LedgerSteps {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

export interface ChargeRecord {
  id: string;
  userId: string;
  epsilon: number;
  delta: number;
  /** query: a noisy aggregate; weights: a job's trained weights (charged once). */
  kind: "query" | "weights";
  /** What was released (an object id, a job id). */
  subject: string;
  createdAt: string;
}

/** What a charge did: the charge (new, or the earlier one for weights already paid for) and the balance after. */
export interface ChargeResult {
  charge: ChargeRecord;
  /** False when the same weights were charged before (post-processing costs nothing). */
  charged: boolean;
  budget: number;
  spent: number;
}

export interface UserStore {
  create(user: Omit<UserRecord, "id" | "createdAt" | "spent">): Promise<UserRecord>;
  byId(id: string): Promise<UserRecord | undefined>;
  byEmail(email: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  update(
    id: string,
    fields: Partial<Pick<UserRecord, "name" | "email" | "role" | "passwordHash" | "budget">>,
  ): Promise<UserRecord | undefined>;
  delete(id: string): Promise<boolean>;
}

export interface SessionStore {
  create(userId: string, expiresAt: Date): Promise<SessionRecord>;
  /** The session and its user, when the session exists (expired and revoked ones too: the caller says why it refuses). */
  get(id: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;
  revoke(id: string): Promise<void>;
  /** Ends every session of a user (a password change); returns how many. */
  revokeAll(userId: string): Promise<number>;
}

export interface DatasetStore {
  /** A dataset and its assets, in one transaction. */
  create(
    dataset: Omit<DatasetRecord, "id" | "createdAt" | "assets"> & { assets: Omit<AssetRecord, "id" | "datasetId">[] },
  ): Promise<DatasetRecord>;
  list(): Promise<DatasetRecord[]>;
  get(id: string): Promise<DatasetRecord | undefined>;
  asset(id: string): Promise<AssetRecord | undefined>;
  createObject(object: Omit<ObjectRecord, "id" | "createdAt">): Promise<ObjectRecord>;
  object(id: string): Promise<ObjectRecord | undefined>;
}

export interface RequestStore {
  create(request: {
    kind: RequestKind;
    userId: string;
    objectId?: string;
    epsilon?: number;
    reason: string;
  }): Promise<RequestRecord>;
  /** All requests, or one user's; newest first. */
  list(filter?: { userId?: string; status?: RequestStatus }): Promise<RequestRecord[]>;
  get(id: string): Promise<RequestRecord | undefined>;
  /**
   * Decides a pending request; accepting a budget request adds its epsilon to the user's budget in the same
   * transaction. Undefined when there is no pending request with that id.
   */
  decide(id: string, status: "accepted" | "denied", reviewerId: string): Promise<RequestRecord | undefined>;
  /** Whether the user has an accepted data access request for one of `objectIds`. */
  hasAccess(userId: string, objectIds: readonly string[]): Promise<boolean>;
}

export interface LedgerStore {
  /**
   * Charges epsilon to a user's budget in one transaction that never overspends, also under concurrent charges;
   * throws TSYFT_ERR_PRIVACY_BUDGET (details: needed, left) and changes nothing when it would. Weights are
   * charged once per (user, subject).
   */
  charge(charge: Omit<ChargeRecord, "id" | "createdAt">): Promise<ChargeResult>;
  charges(userId: string): Promise<ChargeRecord[]>;
}

export interface JobStore {
  create(userId: string, spec: Record<string, unknown>): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
  list(userId?: string): Promise<JobRecord[]>;
  setStatus(id: string, status: JobStatus, error?: string): Promise<void>;
  addProgress(jobId: string, row: ProgressRow): Promise<void>;
  progress(jobId: string): Promise<ProgressRow[]>;
  /** Adds DP-SGD steps to a job's tally (merged with the last run when its parameters are the same). */
  addSteps(jobId: string, steps: LedgerSteps): Promise<void>;
  steps(jobId: string): Promise<LedgerSteps[]>;
}

/** A domain's database: every table behind one interface, whichever backend. */
export interface DomainStore {
  readonly kind: "pglite" | "postgres";
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly datasets: DatasetStore;
  readonly requests: RequestStore;
  readonly ledger: LedgerStore;
  readonly jobs: JobStore;
  close(): Promise<void>;
}
