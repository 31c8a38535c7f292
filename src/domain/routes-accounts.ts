/**
 * The domain's account routes:
 *
 *   POST   /login            { email, password }            -> { token, expiresAt, user, domain }
 *   POST   /logout                                          -> 204
 *   GET    /me                                              -> { user, privacyBudget }
 *   POST   /me/password      { oldPassword, newPassword }   -> a new login (every session of the user ends)
 *   GET    /users            (manageUsers)                  -> { users }
 *   POST   /users            (createUsers) { name, email, password, role?, budget? } -> 201 { user }
 *   PUT    /users/:id        role (editRoles), budget (managePrivacyBudget), name/email/password (manageUsers)
 *   DELETE /users/:id        (manageUsers)                  -> 204
 *
 * Nobody becomes or stops being the Owner through the API, and nobody deletes themselves.
 */
import { ErrorCode, TsyftError } from "../core/errors";
import type { Route, RouteRequest } from "../grid/http-router";
import { hashPassword } from "./passwords";
import { checkRole, requirePermission } from "./roles";
import { publicUser, requireUser, type DomainCaller, type SessionAuth } from "./session-auth";
import type { DomainStore, UserRecord } from "./storage";

export interface RouteContext {
  store: DomainStore;
  auth: SessionAuth;
  name: string;
}

/** A route whose handler gets the caller (a guest or a user with a live session). */
export function route(
  ctx: RouteContext,
  method: Route["method"],
  path: string,
  handle: (request: RouteRequest, caller: DomainCaller) => Promise<{ status: number; body?: unknown }>,
  extra: Partial<Route> = {},
): Route {
  return { method, path, ...extra, handle: async (request) => handle(request, await ctx.auth.caller(request)) };
}

export function accountRoutes(ctx: RouteContext): Route[] {
  const { store, auth } = ctx;
  return [
    {
      method: "POST",
      path: "/login",
      handle: async (request) => {
        const body = await request.body();
        const address = request.req.socket.remoteAddress;
        return { status: 200, body: { ...(await auth.login(body.email, body.password, address)), domain: ctx.name } };
      },
    },
    route(ctx, "POST", "/logout", async (_request, caller) => {
      if (caller.kind === "user") await auth.logout(caller.sessionId);
      return { status: 204 };
    }),
    route(ctx, "GET", "/me", async (_request, caller) => {
      const user = requireUser(caller, "see an account");
      return { status: 200, body: { user: publicUser(user), privacyBudget: user.budget - user.spent } };
    }),
    route(ctx, "POST", "/me/password", async (request, caller) => {
      const user = requireUser(caller, "change a password");
      const body = await request.body();
      if (!(await auth.confirmPassword(user, body.oldPassword, request.req.socket.remoteAddress))) {
        throw new TsyftError(ErrorCode.AUTH, "The current password is wrong; the password was not changed.", {
          status: 403,
          forbidden: true,
        });
      }
      await store.users.update(user.id, { passwordHash: await hashPassword(checkPassword(body.newPassword)) });
      await store.sessions.revokeAll(user.id);
      return {
        status: 200,
        body: {
          ...(await auth.login(user.email, body.newPassword, request.req.socket.remoteAddress)),
          domain: ctx.name,
        },
      };
    }),
    route(ctx, "GET", "/users", async (_request, caller) => {
      requirePermission(requireUser(caller, "list users"), "manageUsers", "list the domain's users");
      return { status: 200, body: { users: (await store.users.list()).map(publicUser) } };
    }),
    route(ctx, "POST", "/users", async (request, caller) => {
      const me = requireUser(caller, "create users");
      requirePermission(me, "createUsers", "create users");
      const body = await request.body();
      const role = body.role === undefined ? "Data Scientist" : checkRole(body.role);
      if (role !== "Data Scientist") requirePermission(me, "editRoles", `create a ${role}`);
      if (role === "Owner") throw ownerIsUnique();
      const user = await store.users.create({
        name: checkText(body.name, "name"),
        email: checkEmail(body.email),
        role,
        passwordHash: await hashPassword(checkPassword(body.password)),
        budget: checkBudget(body.budget ?? 0),
      });
      return { status: 201, body: { user: publicUser(user) } };
    }),
    route(ctx, "PUT", "/users/:id", async (request, caller) => {
      const me = requireUser(caller, "change users");
      const target = await userOr404(store, request.params[0]!);
      const body = await request.body();
      const fields: Parameters<DomainStore["users"]["update"]>[1] = {};
      if (body.role !== undefined) {
        requirePermission(me, "editRoles", "change roles");
        const role = checkRole(body.role);
        if (role === "Owner" || target.role === "Owner") throw ownerIsUnique();
        fields.role = role;
      }
      if (body.budget !== undefined) {
        requirePermission(me, "managePrivacyBudget", "change privacy budgets");
        fields.budget = checkBudget(body.budget);
      }
      if (body.name !== undefined || body.email !== undefined || body.password !== undefined) {
        if (me.id !== target.id) requirePermission(me, "manageUsers", "change other users' accounts");
        if (body.name !== undefined) fields.name = checkText(body.name, "name");
        if (body.email !== undefined) fields.email = checkEmail(body.email);
        if (body.password !== undefined) fields.passwordHash = await hashPassword(checkPassword(body.password));
      }
      const updated = await store.users.update(target.id, fields);
      if (fields.passwordHash !== undefined) await store.sessions.revokeAll(target.id);
      return { status: 200, body: { user: publicUser(updated!) } };
    }),
    route(ctx, "DELETE", "/users/:id", async (request, caller) => {
      const me = requireUser(caller, "delete users");
      requirePermission(me, "manageUsers", "delete users");
      const target = await userOr404(store, request.params[0]!);
      if (target.role === "Owner" || target.id === me.id) {
        throw new TsyftError(ErrorCode.PERMISSION, "The Owner, and your own account, cannot be deleted.", {
          status: 403,
        });
      }
      await store.users.delete(target.id);
      return { status: 204 };
    }),
  ];
}

async function userOr404(store: DomainStore, id: string): Promise<UserRecord> {
  const user = await store.users.byId(id);
  if (!user) throw new TsyftError(ErrorCode.NOT_FOUND, `No user ${JSON.stringify(id)}; see domain.users.`);
  return user;
}

function ownerIsUnique(): TsyftError {
  return new TsyftError(
    ErrorCode.PERMISSION,
    "A domain has one Owner, made with it; no one becomes or stops being it.",
    {
      status: 403,
    },
  );
}

function checkText(value: unknown, what: string): string {
  if (typeof value === "string" && value.trim() !== "" && value.length <= 200) return value.trim();
  throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Expected a ${what}: a non-empty string of at most 200 characters.`);
}

function checkEmail(value: unknown): string {
  if (typeof value === "string" && /^[^\s@]+@[^\s@]+$/.test(value) && value.length <= 254) return value;
  throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Expected an email address, got ${JSON.stringify(value)}.`);
}

function checkPassword(value: unknown): string {
  if (typeof value === "string" && value.length >= 8 && value.length <= 1024) return value;
  throw new TsyftError(ErrorCode.INVALID_ARGUMENT, "A password needs at least 8 characters.");
}

function checkBudget(value: unknown): number {
  if (typeof value === "number" && value >= 0 && Number.isFinite(value)) return value;
  throw new TsyftError(
    ErrorCode.INVALID_ARGUMENT,
    `Expected a privacy budget: an epsilon >= 0, got ${JSON.stringify(value)}.`,
  );
}
