/**
 * The material a real run asks for, learned as it runs: the first run of a
 * computation on demand records each request (tag and spec), so that its
 * later runs can have the provider stream all of it from their start
 * (`MaterialSource.prefetch`), one piece after another while they compute,
 * instead of a round trip to the provider per op. What a dry run on zeros
 * records (recording.ts) is the same list; this costs no extra run.
 *
 * Protocols are data-oblivious, so a computation with the same identity (IR,
 * shapes, sharing, protocol choices) asks for the same specs under the same
 * tags, only the run's scope differs; and a prefetched piece is used only
 * for the spec it was dealt for, so a wrong list costs time, never a value.
 *
 * @example
 * ```ts
 * const learning = new LearningSource(source, "run-7");
 * await plan(contextWith(learning));
 * learning.recorded;   // [{ suffix: "/0:triple.matmul", spec: { kind: "beaver", ... } }, ...]
 * ```
 */
import type {
  BinaryTripleShare,
  DcfShare,
  MaterialSource,
  MaterialSpec,
  RandomBitsShare,
  TaggedSpec,
  TripleShare,
} from "./provider";
import type { RecordedMaterial } from "./recording";

/** A material source that records what it is asked for within `scope`, and passes every call on. */
export class LearningSource implements MaterialSource {
  readonly recorded: RecordedMaterial[] = [];

  constructor(
    private readonly source: MaterialSource,
    private readonly scope: string,
  ) {}

  get epoch(): string | undefined {
    return this.source.epoch;
  }

  private record(tag: string, spec: MaterialSpec): void {
    if (tag.startsWith(`${this.scope}/`)) this.recorded.push({ suffix: tag.slice(this.scope.length), spec });
  }

  triple(tag: string, spec: Extract<MaterialSpec, { kind: "beaver" | "binaryTriple" }>): Promise<TripleShare> {
    this.record(tag, spec);
    return this.source.triple(tag, spec);
  }

  binaryTriple(tag: string, spec: Extract<MaterialSpec, { kind: "binaryTriple" }>): Promise<BinaryTripleShare> {
    this.record(tag, spec);
    return this.source.binaryTriple(tag, spec);
  }

  randomBits(tag: string, shape: readonly number[]): Promise<RandomBitsShare> {
    this.record(tag, { kind: "randomBits", shape: [...shape] });
    return this.source.randomBits(tag, shape);
  }

  dcf(tag: string, spec: Extract<MaterialSpec, { kind: "dcf" }>): Promise<DcfShare> {
    this.record(tag, spec);
    return this.source.dcf(tag, spec);
  }

  preload(items: readonly TaggedSpec[]): Promise<void> {
    return this.source.preload(items);
  }
}
