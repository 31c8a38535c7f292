/**
 * PySyft 0.6's roles and what each may do (its seeded `Role` rows), checked by
 * the domain on every request:
 *
 * | permission               | Data Scientist | Compliance Officer | Administrator | Owner |
 * | ------------------------ | :------------: | :----------------: | :-----------: | :---: |
 * | makeDataRequests         | yes            |                    | yes           | yes   |
 * | triageDataRequests       |                | yes                | yes           | yes   |
 * | managePrivacyBudget      |                |                    | yes           | yes   |
 * | createUsers              |                |                    | yes           | yes   |
 * | manageUsers              |                | yes                | yes           | yes   |
 * | editRoles                |                |                    | yes           | yes   |
 * | manageInfrastructure     |                |                    | yes           | yes   |
 * | uploadData               |                |                    | yes           | yes   |
 * | editDomainSettings       |                |                    | yes           | yes   |
 *
 * New users are Data Scientists. There is one Owner, made with the domain.
 *
 * @example
 * ```ts
 * can("Compliance Officer", "triageDataRequests");   // true
 * requirePermission(user, "uploadData", "upload a dataset");   // throws TSYFT_ERR_PERMISSION for a Data Scientist
 * ```
 */
import { ErrorCode, TsyftError } from "../core/errors";
import type { Role } from "./storage/types";

export const ROLES: readonly Role[] = ["Data Scientist", "Compliance Officer", "Administrator", "Owner"];

export type Permission =
  | "makeDataRequests"
  | "triageDataRequests"
  | "managePrivacyBudget"
  | "createUsers"
  | "manageUsers"
  | "editRoles"
  | "manageInfrastructure"
  | "uploadData"
  | "editDomainSettings";

const ALL: readonly Permission[] = [
  "makeDataRequests",
  "triageDataRequests",
  "managePrivacyBudget",
  "createUsers",
  "manageUsers",
  "editRoles",
  "manageInfrastructure",
  "uploadData",
  "editDomainSettings",
];

const PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  "Data Scientist": new Set(["makeDataRequests"]),
  "Compliance Officer": new Set(["triageDataRequests", "manageUsers"]),
  Administrator: new Set(ALL),
  Owner: new Set(ALL),
};

/**
 * Whether `role` has `permission`.
 *
 * @example
 * ```ts
 * can("Data Scientist", "uploadData");   // false
 * ```
 */
export function can(role: Role, permission: Permission): boolean {
  return PERMISSIONS[role]?.has(permission) ?? false;
}

/**
 * Throws TSYFT_ERR_PERMISSION (HTTP 403) unless `user` has `permission`; `action` names what was tried.
 *
 * @example
 * ```ts
 * requirePermission(caller, "createUsers", "create users");
 * ```
 */
export function requirePermission(user: { role: Role; email: string }, permission: Permission, action: string): void {
  if (can(user.role, permission)) return;
  const roles = ROLES.filter((r) => can(r, permission));
  throw new TsyftError(
    ErrorCode.PERMISSION,
    `${user.email} is a ${user.role} and may not ${action}; that takes the role ${roles.join(", ").replace(/, (?=[^,]*$)/, " or ")}. ` +
      "Ask the domain's owner.",
    { role: user.role, permission, status: 403 },
  );
}

/**
 * A role from a client, checked: one of the four (INVALID_ARGUMENT otherwise).
 *
 * @example
 * ```ts
 * checkRole("Compliance Officer");
 * ```
 */
export function checkRole(value: unknown): Role {
  if (ROLES.includes(value as Role)) return value as Role;
  throw new TsyftError(
    ErrorCode.INVALID_ARGUMENT,
    `Unknown role ${JSON.stringify(value)}; a domain's roles are ${ROLES.map((r) => JSON.stringify(r)).join(", ")}.`,
  );
}
