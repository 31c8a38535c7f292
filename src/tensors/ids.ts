/**
 * Object ids, assigned by the caller (PySyft's return_ids) so that commands can
 * be pipelined: the client names each result before the worker computes it.
 * An id is also the scope of the protocol run that produces it, so it holds no "/".
 */
import { randomBytes } from "node:crypto";

export class IdGenerator {
  private counter = 0;
  private readonly prefix = randomBytes(4).toString("hex");

  next(): string {
    return `${this.prefix}-${(this.counter++).toString(36)}`;
  }
}
