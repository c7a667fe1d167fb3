// Collapsed stacks, the text format of flamegraph.pl and py-spy's `--format raw`: one line per distinct
// stack, "root;…;leaf count", frames labelled "function (file:line)"; thread/process frames as py-spy writes them.

import {
  buildCallTree,
  callTreeNodeLabel,
  sortedChildren,
  type CallTreeNode,
  type CallTreeOptions,
  type Profile,
} from '../profile/index.js';

export type ExportCollapsedOptions = CallTreeOptions;

/**
 * One line per distinct stack, in sorted frame order so the output is deterministic.
 * Samples with no frame at all are left out: flamegraph.pl has no way to draw an empty stack.
 */
export function exportCollapsed(profile: Profile, options: ExportCollapsedOptions = {}): string {
  const { root } = buildCallTree(profile, options);
  const lines: string[] = [];
  const pending: Array<{ node: CallTreeNode; path: string }> = [{ node: root, path: '' }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { node, path } = item;
    if (node !== root && node.self > 0) lines.push(`${path} ${node.self}`);
    for (const child of sortedChildren(node).reverse()) {
      const label = collapsedFrameLabel(profile, child);
      pending.push({ node: child, path: path ? `${path};${label}` : label });
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** py-spy's label for a node: "thread (tid): name" and `process pid:"command"` for the synthetic ones. */
export function collapsedFrameLabel(profile: Profile, node: CallTreeNode): string {
  if (node.kind === 'thread') {
    const thread = profile.threads[node.key]!;
    return escapeCollapsedFrame(thread.name ? `thread (${thread.tid}): ${thread.name}` : `thread (${thread.tid})`);
  }
  if (node.kind === 'process') {
    const command = profile.processes.find((process) => process.pid === node.key)?.command ?? '';
    return escapeCollapsedFrame(`process ${node.key}:"${command}"`);
  }
  return escapeCollapsedFrame(callTreeNodeLabel(node));
}

/**
 * py-spy writes labels as they are, so a ';' in a file name splits the frame and a newline breaks the line.
 * We percent-encode just the characters that would (and '%' itself, so decoding is exact).
 */
export function escapeCollapsedFrame(label: string): string {
  return label.replace(/[%;\r\n]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function unescapeCollapsedFrame(label: string): string {
  return label.replace(/%(25|3B|0A|0D)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
