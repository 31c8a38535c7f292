/**
 * Requests as a client sees them: each with `accept()` and `deny()` (for who
 * may triage it), and the list that renders as a table.
 *
 * @example
 * ```ts
 * const [latest] = await owner.requests;
 * await latest!.accept();
 * ```
 */
import { DISPLAY, type MimeBundle } from "../core/display-protocol";
import type { DomainHttp } from "./client-http";
import type { RequestRecord } from "./storage/types";
import { htmlTable } from "./views-table";

export type RequestInfo = RequestRecord;

/** A request, with `accept()` and `deny()` for who may triage it. */
export class RequestView {
  constructor(
    private readonly http: DomainHttp,
    readonly info: RequestInfo,
  ) {}

  get id(): string {
    return this.info.id;
  }

  get status(): RequestInfo["status"] {
    return this.info.status;
  }

  accept(): Promise<RequestView> {
    return this.decide("accept");
  }

  deny(): Promise<RequestView> {
    return this.decide("deny");
  }

  [DISPLAY](): MimeBundle {
    return requestTable([this]);
  }

  private async decide(verb: "accept" | "deny"): Promise<RequestView> {
    const { request } = await this.http.request<{ request: RequestInfo }>(
      "POST",
      `/requests/${encodeURIComponent(this.id)}/${verb}`,
    );
    return new RequestView(this.http, request);
  }
}

/** Requests, newest first. */
export class RequestList extends Array<RequestView> {
  static override get [Symbol.species]() {
    return Array;
  }

  [DISPLAY](): MimeBundle {
    return requestTable(this);
  }
}

function requestTable(requests: readonly RequestView[]): MimeBundle {
  return htmlTable(
    ["Id", "Kind", "User", "Asks for", "Reason", "Status", "Created at"],
    requests.map(({ info: r }) => [
      r.id,
      r.kind === "budget" ? "budget" : "data access",
      r.userEmail,
      r.kind === "budget" ? `epsilon ${r.epsilon}` : r.objectId,
      r.reason,
      r.status,
      r.createdAt,
    ]),
  );
}
