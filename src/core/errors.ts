/**
 * Typed errors with stable codes.
 *
 * Every error tsyft throws on purpose is a `TsyftError` carrying a `code` from
 * {@link ErrorCode}. Messages say what was expected, what came, and what to do.
 * Codes are stable: tests and user code may match on them; the list below is
 * the documentation of all codes (README links here).
 *
 * @example
 * ```ts
 * try { await ptr.get(); }
 * catch (e) { if (e instanceof sy.TsyftError && e.code === "TSYFT_ERR_OBJECT_NOT_FOUND") ... }
 * ```
 */

export const ErrorCode = {
  /** Two operands (or an operand and an op) have incompatible shapes. */
  SHAPE_MISMATCH: "TSYFT_ERR_SHAPE_MISMATCH",
  /** An argument has the wrong type or an invalid value. */
  INVALID_ARGUMENT: "TSYFT_ERR_INVALID_ARGUMENT",
  /** A value is too large in magnitude for the fixed-point encoding. */
  ENCODE_OVERFLOW: "TSYFT_ERR_ENCODE_OVERFLOW",
  /** Tensors shared among different holders (or providers) were mixed in one op. */
  HOLDERS_MISMATCH: "TSYFT_ERR_HOLDERS_MISMATCH",
  /** An op needs correlated randomness but no crypto provider was given. */
  NO_CRYPTO_PROVIDER: "TSYFT_ERR_NO_CRYPTO_PROVIDER",
  /** A protocol was asked for a number of share holders it does not support. */
  UNSUPPORTED_PARTIES: "TSYFT_ERR_UNSUPPORTED_PARTIES",
  /** An op is not available on this kind of tensor. */
  UNSUPPORTED_OP: "TSYFT_ERR_UNSUPPORTED_OP",
  /** Fixed-point operands with different encodings were mixed. */
  PRECISION_MISMATCH: "TSYFT_ERR_PRECISION_MISMATCH",
  /** A worker does not hold the object id it was asked for. */
  OBJECT_NOT_FOUND: "TSYFT_ERR_OBJECT_NOT_FOUND",
  /** A pointer was used after `get()` or `move()` released its object. */
  POINTER_RELEASED: "TSYFT_ERR_POINTER_RELEASED",
  /** A pipelined op failed on a worker; this wraps the original failure. */
  REMOTE_OP_FAILED: "TSYFT_ERR_REMOTE_OP_FAILED",
  /** A worker id is already taken or unknown. */
  WORKER_ID: "TSYFT_ERR_WORKER_ID",
  /** A message could not be decoded or had an unknown type. */
  MALFORMED_MESSAGE: "TSYFT_ERR_MALFORMED_MESSAGE",
  /** A message exceeded the configured size limit. */
  MESSAGE_TOO_LARGE: "TSYFT_ERR_MESSAGE_TOO_LARGE",
  /** A wait for a peer or a reply ran past its timeout. */
  TIMEOUT: "TSYFT_ERR_TIMEOUT",
  /** A connection closed or could not be opened. */
  CONNECTION: "TSYFT_ERR_CONNECTION",
  /** Parties of a protocol disagree on what they are running (desynchronised streams). */
  PROTOCOL_DESYNC: "TSYFT_ERR_PROTOCOL_DESYNC",
  /**
   * Holders' correlated randomness (or cached opened masks) came from different
   * key epochs of their crypto provider (it restarted): they re-key; run again.
   */
  PROVIDER_EPOCH: "TSYFT_ERR_PROVIDER_EPOCH",
  /** A peer aborted a protocol run because it failed on its side. */
  PROTOCOL_ABORTED: "TSYFT_ERR_PROTOCOL_ABORTED",
  /** The validation mode found a secure result that diverges from plaintext. */
  VALIDATION_FAILED: "TSYFT_ERR_VALIDATION_FAILED",
  /** A plan could not be traced, built, or run. */
  PLAN_INVALID: "TSYFT_ERR_PLAN_INVALID",
  /** A plan was used before `build()`. */
  PLAN_NOT_BUILT: "TSYFT_ERR_PLAN_NOT_BUILT",
  /** A plan sent without `copy` was fetched a second time. */
  PLAN_ALREADY_FETCHED: "TSYFT_ERR_PLAN_ALREADY_FETCHED",
  /** A model layer cannot be converted to a plan, or trained as asked (BatchNorm under DP-SGD). */
  UNSUPPORTED_LAYER: "TSYFT_ERR_UNSUPPORTED_LAYER",
  /** Bytes are not a plan of a version this library reads. */
  SERIALIZATION: "TSYFT_ERR_SERIALIZATION",
  /** Wrong or missing token/credentials. */
  AUTH: "TSYFT_ERR_AUTH",
  /** A browser page from an origin the node does not allow opened a socket to it (NodeOptions.allowedOrigins). */
  ORIGIN: "TSYFT_ERR_ORIGIN",
  /** A dataset file is missing or its checksum does not match. */
  DATA_MISSING: "TSYFT_ERR_DATA_MISSING",
  /** A dataset file failed its sha256 check. */
  DATA_CHECKSUM: "TSYFT_ERR_DATA_CHECKSUM",
  /** A configured limit was hit; `details.limit` names the setting (docs/limits.md lists them all). */
  LIMIT: "TSYFT_ERR_LIMIT",
  /** An id (node, model, object, plan) is not of the allowed form (see src/core/ids.ts). */
  INVALID_ID: "TSYFT_ERR_INVALID_ID",
  /** A server has no such route or resource (HTTP 404). */
  NOT_FOUND: "TSYFT_ERR_NOT_FOUND",
  /** The route exists but not with this method (HTTP 405; the `Allow` header lists the methods). */
  METHOD_NOT_ALLOWED: "TSYFT_ERR_METHOD_NOT_ALLOWED",
  /** A server failed in a way it did not expect (HTTP 500); the server logs it. */
  INTERNAL: "TSYFT_ERR_INTERNAL",
  /** A TLS connection failed: the server's certificate could not be verified, or the TLS files are unusable. */
  TLS: "TSYFT_ERR_TLS",
  /** A model is shared but not being served now: its owner has not called serve(), or stopped it. */
  MODEL_NOT_SERVED: "TSYFT_ERR_MODEL_NOT_SERVED",
  /** A served model answered all the requests it was served for (`serve({ numRequests })`). */
  SERVING_LIMIT: "TSYFT_ERR_SERVING_LIMIT",
  /** A `sy.nn` model spec is malformed: `details.layer` is the index of the layer at fault, when one is. */
  MODEL_SPEC: "TSYFT_ERR_MODEL_SPEC",
  /** Work was cancelled through its AbortSignal (a training run stopped between two steps). */
  CANCELLED: "TSYFT_ERR_CANCELLED",
  /** A domain user's role does not allow this, or the data is not theirs to see: ask (`ptr.request({ reason })`). */
  PERMISSION: "TSYFT_ERR_PERMISSION",
  /** A domain session token expired or was revoked: log in again (`sy.login`). */
  SESSION_EXPIRED: "TSYFT_ERR_SESSION_EXPIRED",
  /** A release would spend more privacy budget than is left; nothing was released (`details`: needed, left). */
  PRIVACY_BUDGET: "TSYFT_ERR_PRIVACY_BUDGET",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of all tsyft errors. */
export class TsyftError extends Error {
  readonly code: ErrorCode;
  /** Free-form structured details (worker id, object id, op name, shapes...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
    this.name = new.target.name;
  }
}

/** Misuse of a secure op or a protocol (shapes, holders, parties, precision). */
export class ProtocolError extends TsyftError {}
/** A message could not travel: connection, timeout, malformed or oversized frame. */
export class CommunicationError extends TsyftError {}
/** A plan could not be built, serialized, fetched or run. */
export class PlanError extends TsyftError {}
/** Wrong or missing credentials. */
export class AuthError extends TsyftError {}
/** A dataset is missing or corrupt. */
export class DataError extends TsyftError {}
/** A worker-side failure: unknown object, released pointer, failed remote op. */
export class WorkerError extends TsyftError {}
/** A configured limit was hit (code TSYFT_ERR_LIMIT, `details.limit` names the setting). */
export class LimitError extends TsyftError {}

/** Constructors by name, so an error that crossed the wire is rebuilt with its class. */
const errorClasses = {
  TsyftError,
  ProtocolError,
  CommunicationError,
  PlanError,
  AuthError,
  DataError,
  WorkerError,
  LimitError,
} as const;

export type ErrorClassName = keyof typeof errorClasses;

/** The wire form of an error. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  stack?: string;
}

/** Turns any thrown value into its wire form. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof TsyftError) {
    return { name: error.name, code: error.code, message: error.message, details: plainDetails(error.details) };
  }
  if (error instanceof Error) {
    return { name: error.name, code: "", message: error.message };
  }
  return { name: "Error", code: "", message: String(error) };
}

/** Rebuilds an error from its wire form, keeping its class and code where they are tsyft's. */
export function deserializeError(wire: SerializedError): Error {
  const cls = errorClasses[wire.name as ErrorClassName];
  if (cls && isErrorCode(wire.code)) {
    return new cls(wire.code, wire.message, wire.details ?? {});
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

function isErrorCode(code: string): code is ErrorCode {
  return (Object.values(ErrorCode) as string[]).includes(code);
}

/** Keeps only JSON-like detail values so they survive the wire. */
function plainDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === "number" || typeof v === "string"))
      out[key] = value;
  }
  return out;
}

/** Formats a shape for messages: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Whether `error` only echoes another party's failure: a protocol abort, or a remote op that failed because of
 * one. The party that aborted has its own, telling error.
 */
export function isAbortEcho(error: unknown): boolean {
  const e = error as Partial<TsyftError> | undefined;
  return e?.code === ErrorCode.PROTOCOL_ABORTED || e?.details?.cause === ErrorCode.PROTOCOL_ABORTED;
}

/**
 * `Promise.all` for the parties of one protocol run, failing with the cause rather than its echo: the first failure
 * that is not an abort echo rejects at once; when every failure is an echo, the first one rejects once all have
 * settled. (The party that refused a run aborts it to the others, and their echoes often arrive first.)
 */
export function allParties<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const values: T[] = new Array<T>(promises.length);
    let pending = promises.length;
    let echo: { error: unknown } | undefined;
    const settled = (): void => {
      if (--pending > 0) return;
      if (echo) reject(echo.error);
      else resolve(values);
    };
    if (pending === 0) resolve(values);
    promises.forEach((p, i) =>
      p.then(
        (value) => {
          values[i] = value;
          settled();
        },
        (error: unknown) => {
          if (!isAbortEcho(error)) reject(error);
          else echo ??= { error };
          settled();
        },
      ),
    );
  });
}
