/**
 * The domain node (PySyft 0.6's domain): accounts with roles, private datasets
 * a data scientist sees only through pointers, requests, and a privacy budget
 * charged by differentially private `publish`; state in PostgreSQL (PGlite by
 * default). See DESIGN.md section 8, "The domain".
 *
 * @example
 * ```ts
 * const domain = await sy.domain.startDomain({ name: "Hospital A", dataDir: "./domain-a", port: 8081 });
 * const owner = await sy.login({ email: "info@openmined.org", password: "changethis", port: 8081 });
 * ```
 */
export { Domain, startDomain, type DomainOptions } from "./server";
export { DEFAULT_OWNER } from "./defaults";
export { login, DomainClient, DEFAULT_ACCOUNT_WARNING, DEFAULT_PASSWORD_WARNING, type LoginOptions } from "./client";
export { AssetPointer, Published, type PointerInfo } from "./pointer";
export { DatasetList, DatasetView, UserList, datasetOf, type Dataset, type DatasetInfo } from "./views";
export { RequestList, RequestView, type RequestInfo } from "./request-views";
export { ROLES, can, type Permission } from "./roles";
export { querySensitivity } from "./sensitivity";
export type { PublicUser } from "./session-auth";
export { openDomainStore, type DomainStore, type Role, type StoreOptions } from "./storage";
export { runDomainCli } from "./cli";
export {
  JobPointer,
  WeightsPointer,
  PublishedWeights,
  startJob,
  type JobState,
  type JobOptions,
  type WaitOptions,
} from "./job-pointer";
export { ModelPointer, type ModelProgress } from "./model-pointer";
export type { ModelSpec, TrainModelFn, TrainOptions } from "./jobs/train-interface";
