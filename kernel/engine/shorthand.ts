/**
 * Works around a tslab converter bug with shorthand properties.
 *
 * tslab rewrites references to variables of earlier cells as `exports.name`,
 * but not inside a shorthand property: with `const seed = 42` in one cell,
 * `{ seed }` in a later cell compiles to `{ seed }` and throws
 * "ReferenceError: seed is not defined". Before compiling, such shorthands are
 * spelled out (`{ seed: seed }`), which means the same thing in JavaScript and
 * goes through tslab's rewrite. Only names the cell does not declare itself
 * are touched, and positions in diagnostics are mapped back to the source the
 * user wrote.
 */
type Ts = typeof import("@tslab/typescript-for-tslab");
type Node = import("@tslab/typescript-for-tslab").Node;

let ts: Ts | undefined;
function typescript(): Ts {
  ts ??= require(require.resolve("@tslab/typescript-for-tslab", { paths: [require.resolve("tslab")] })) as Ts;
  return ts;
}

/** The rewritten source and the way back to positions in the original. */
export interface ExpandedSource {
  source: string;
  changed: boolean;
  /** Maps an offset in `source` to the offset in the original. */
  toOriginal(offset: number): number;
}

const UNCHANGED = (source: string): ExpandedSource => ({ source, changed: false, toOriginal: (offset) => offset });

/** Names the cell declares anywhere (variables, functions, classes, parameters, imports, catch bindings). */
function declaredNames(t: Ts, root: Node): Set<string> {
  const names = new Set<string>();
  const addBinding = (name: Node | undefined) => {
    if (!name) return;
    if (t.isIdentifier(name)) names.add(name.text);
    else if (t.isObjectBindingPattern(name) || t.isArrayBindingPattern(name)) {
      for (const element of name.elements) if (t.isBindingElement(element)) addBinding(element.name);
    }
  };
  const visit = (node: Node): void => {
    if (
      t.isVariableDeclaration(node) ||
      t.isParameter(node) ||
      t.isBindingElement(node) ||
      t.isFunctionDeclaration(node) ||
      t.isFunctionExpression(node) ||
      t.isClassDeclaration(node) ||
      t.isClassExpression(node) ||
      t.isEnumDeclaration(node) ||
      t.isImportClause(node) ||
      t.isNamespaceImport(node) ||
      t.isImportSpecifier(node) ||
      t.isImportEqualsDeclaration(node)
    ) {
      addBinding((node as { name?: Node }).name);
    }
    t.forEachChild(node, visit);
  };
  visit(root);
  return names;
}

export function expandShorthands(source: string): ExpandedSource {
  if (!source.includes("{")) return UNCHANGED(source);
  const t = typescript();
  const file = t.createSourceFile("cell.ts", source, t.ScriptTarget.Latest, true, t.ScriptKind.TS);
  const declared = declaredNames(t, file);
  const insertions: Array<{ at: number; text: string }> = [];
  const visit = (node: Node): void => {
    if (t.isShorthandPropertyAssignment(node) && !declared.has(node.name.text)) {
      insertions.push({ at: node.name.end, text: `: ${node.name.text}` });
    }
    t.forEachChild(node, visit);
  };
  visit(file);
  if (insertions.length === 0) return UNCHANGED(source);
  insertions.sort((a, b) => a.at - b.at);
  let out = "";
  let from = 0;
  for (const { at, text } of insertions) {
    out += source.slice(from, at) + text;
    from = at;
  }
  out += source.slice(from);
  return {
    source: out,
    changed: true,
    toOriginal(offset: number): number {
      let shift = 0;
      for (const { at, text } of insertions) {
        const start = at + shift; // where this insertion begins in the rewritten text
        if (offset < start) break;
        if (offset < start + text.length) return at; // inside inserted text: its anchor
        shift += text.length;
      }
      return offset - shift;
    },
  };
}

/** Line and character (0-based) of an offset. */
export function lineAndCharacter(source: string, offset: number): { line: number; character: number } {
  const before = source.slice(0, Math.max(0, offset));
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}
