/**
 * An index over the objects of one "other" type in an ObjectStore, across
 * owners, kept current by observing the store: hosted plans by plan id (a
 * plan is named by id whoever asks, its owner's namespace is found here) and
 * use grants by IR hash.
 *
 * @example
 * ```ts
 * const plans = new TypeIndex<HostedPlan>(store, "plan", (id) => id);
 * plans.lookup("convnet");   // [{ owner: "user:ada", id: "convnet", value: hosted }]
 * ```
 */
import type { ObjectStore } from "./object-store";

/** One indexed object: who owns it, its id, its value. */
export interface Indexed<V> {
  owner: string;
  id: string;
  value: V;
}

export class TypeIndex<V> {
  /** key -> (owner, id) pairs, as "owner\u0000id". */
  private readonly byKey = new Map<string, Set<string>>();
  /** "owner\u0000id" -> its key, so that an overwrite or delete finds what to drop. */
  private readonly keyOfRef = new Map<string, string>();

  constructor(
    private readonly store: ObjectStore,
    readonly type: string,
    private readonly keyOf: (id: string, value: V) => string,
  ) {
    store.observe((change) => {
      if (change.type === "clear") {
        this.byKey.clear();
        this.keyOfRef.clear();
        return;
      }
      const ref = `${change.owner}\u0000${change.id}`;
      this.drop(ref);
      if (change.type === "set" && change.object.kind === "other" && change.object.type === type) {
        const key = keyOf(change.id, change.object.value as V);
        let refs = this.byKey.get(key);
        if (!refs) this.byKey.set(key, (refs = new Set()));
        refs.add(ref);
        this.keyOfRef.set(ref, key);
      }
    });
  }

  /** The objects indexed under `key`, read from the store now. */
  lookup(key: string): Array<Indexed<V>> {
    const out: Array<Indexed<V>> = [];
    for (const ref of this.byKey.get(key) ?? []) {
      const [owner, id] = ref.split("\u0000") as [string, string];
      const object = this.store.peek(owner, id);
      if (object?.kind === "other" && object.type === this.type) out.push({ owner, id, value: object.value as V });
    }
    return out;
  }

  private drop(ref: string): void {
    const key = this.keyOfRef.get(ref);
    if (key === undefined) return;
    this.keyOfRef.delete(ref);
    const refs = this.byKey.get(key);
    refs?.delete(ref);
    if (refs?.size === 0) this.byKey.delete(key);
  }
}
