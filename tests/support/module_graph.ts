/**
 * Deno's own module graph of an entry (`deno info --json`, with the project's deno.json), read once
 * per entry and test process: the tests of what imports what ask for the same graphs again and again.
 */
import assert from "node:assert/strict";
import { ROOT, run } from "./run.ts";

export interface ModuleGraph {
  readonly modules: readonly {
    readonly specifier: string;
    readonly dependencies?: readonly {
      readonly code?: { readonly specifier: string };
      readonly type?: { readonly specifier: string };
      readonly isDynamic?: boolean;
    }[];
  }[];
}

const graphs = new Map<string, Promise<ModuleGraph>>();

/** The graph of `entry`: a path, absolute or relative to the repository. */
export function graphOf(entry: string): Promise<ModuleGraph> {
  const path = entry.startsWith("/") ? entry : `${ROOT}/${entry}`;
  let graph = graphs.get(path);
  if (!graph) {
    graph = (async () => {
      const result = await run(Deno.execPath(), ["info", "--json", "--config", `${ROOT}/deno.json`, path]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout);
    })();
    graphs.set(path, graph);
  }
  return graph;
}
