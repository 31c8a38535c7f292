/**
 * Notebooks that must run at the same time: a serving notebook blocks until
 * its client notebook's queries arrive (07-keras-secure-serving waits for
 * 08-keras-private-prediction-client), so running them one after the other
 * would hang the first. A notebook declares its partner in its metadata:
 *
 *   "metadata": { "tsyft": { "runWith": "08-keras-private-prediction-client" } }
 *
 * The name is a notebook of the same folder (".ipynb" optional). The runner
 * executes such a group side by side, each notebook in its own execution
 * context (engine worker thread), and selecting either notebook of a group
 * (`--only 08`) runs the whole group.
 */
import * as fs from "fs";
import * as path from "path";
import { readNotebook, type Notebook } from "./notebook";

/**
 * The partner a notebook declares (`metadata.tsyft.runWith`), as a file name, or undefined.
 *
 * @example
 * ```ts
 * declaredPartner(readNotebook("notebooks/07-keras-secure-serving.ipynb"));   // "08-keras-private-prediction-client.ipynb"
 * ```
 */
export function declaredPartner(notebook: Notebook): string | undefined {
  const tsyft = notebook.metadata.tsyft as { runWith?: unknown } | undefined;
  const name = tsyft?.runWith;
  if (name === undefined) return undefined;
  if (typeof name !== "string" || name === "" || name !== path.basename(name)) {
    throw new Error(
      `metadata.tsyft.runWith must name a notebook of the same folder (e.g. "08-client"), got ${JSON.stringify(name)}`,
    );
  }
  return name.endsWith(".ipynb") ? name : `${name}.ipynb`;
}

/** The absolute path of `file`'s declared partner, checked to exist; undefined when it declares none. */
function partnerFile(file: string): string | undefined {
  const name = declaredPartner(readNotebook(file));
  if (name === undefined) return undefined;
  const partner = path.join(path.dirname(file), name);
  if (!fs.existsSync(partner)) {
    throw new Error(
      `${path.basename(file)} runs with ${name} (metadata.tsyft.runWith), which is not in ${path.dirname(file)}`,
    );
  }
  return partner;
}

/**
 * Groups the notebooks to run, in order: a notebook alone, or with the
 * notebooks it declares and those that declare it (found in its folder, so
 * that a partner left out of `files` still comes along).
 *
 * @example
 * ```ts
 * planRuns(["nb/06-a.ipynb", "nb/07-serve.ipynb", "nb/08-client.ipynb"]);
 * // [["nb/06-a.ipynb"], ["nb/07-serve.ipynb", "nb/08-client.ipynb"]]   (07 declares runWith "08-client")
 * ```
 */
export function planRuns(files: string[]): string[][] {
  const declared = new Map<string, string | undefined>();
  const partnerOf = (file: string) => {
    if (!declared.has(file)) declared.set(file, partnerFile(file));
    return declared.get(file);
  };
  const groups: string[][] = [];
  const placed = new Set<string>();
  for (const given of files) {
    const file = path.resolve(given);
    if (placed.has(file)) continue;
    const group = [file];
    // Breadth-first over "declares" and "is declared by", within the folder.
    for (let i = 0; i < group.length; i++) {
      const member = group[i]!;
      const siblings = fs
        .readdirSync(path.dirname(member))
        .filter((f) => f.endsWith(".ipynb"))
        .sort()
        .map((f) => path.join(path.dirname(member), f));
      const declares = (s: string) => {
        try {
          return partnerOf(s) === member;
        } catch {
          return false; // a sibling that cannot be read, or names a missing partner, fails when it runs itself
        }
      };
      const linked = [partnerOf(member), ...siblings.filter((s) => s !== member && declares(s))];
      for (const other of linked) if (other !== undefined && !group.includes(other)) group.push(other);
    }
    group.sort();
    for (const member of group) placed.add(member);
    groups.push(group);
  }
  return groups;
}
