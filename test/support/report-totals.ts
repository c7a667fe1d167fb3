// Node totals by root-to-node label path, from the HTML client's model and from the profile layer's call tree, so
// that tests can check the two agree (sample counts or bytes of memory growth).
import {
  buildCallTree,
  callTreeNodeLabel,
  type CallTreeNode,
  type Profile,
  type SampleWeight,
} from '../../src/profile/index.js';
import {
  countNodes,
  nodeLabel,
  type ReportModel,
  type SampleFilter,
} from '../../src/render/html-client/report-model.js';

/** Totals by root-to-node label path, from the client model. */
export function modelTotals(
  model: ReportModel,
  filter: SampleFilter,
  weight: SampleWeight = 'samples',
): Map<string, number> {
  const { total } = countNodes(model, filter, weight);
  const paths: string[] = [];
  const result = new Map<string, number>();
  for (let node = 0; node < model.tree.size; node++) {
    const parent = model.tree.parent[node]!;
    paths[node] = parent < 0 ? 'all' : `${paths[parent]};${nodeLabel(model, node)}`;
    if (total[node]! > 0) result.set(paths[node]!, total[node]!);
  }
  return result;
}

/** The same from the profile layer's call tree. */
export function callTreeTotals(
  profile: Profile,
  filter?: (i: number) => boolean,
  weight: SampleWeight = 'samples',
): Map<string, number> {
  const result = new Map<string, number>();
  const visit = (node: CallTreeNode, path: string): void => {
    if (node.total > 0) result.set(path, node.total);
    for (const child of node.children.values()) visit(child, `${path};${callTreeNodeLabel(child)}`);
  };
  visit(buildCallTree(profile, { filter, weight }).root, 'all');
  return result;
}
