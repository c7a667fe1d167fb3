// Links the compiled client modules (html-client/*.js, emitted by tsc) into one inline script, so the pages
// need no bundler and no fetch: each module becomes a function scope returning its exports, and its imports
// become reads of the modules linked before it. Only the plain forms tsc emits for our own code are accepted.

/** Returns the compiled JavaScript of a client module by name ("format" for html-client/format.js). */
export type ClientModuleReader = (name: string) => string;

const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*'\.\/([\w-]+)\.js';$/;
const EXPORT_DECLARATION = /^export (?:async function\*?|function\*?|class|const|let) ?\*?\s*([A-Za-z_$][\w$]*)/;
const SOURCE_MAP = /^\/\/# sourceMappingURL=/;

/** A script that defines `const hotpathClient` as the entry module's exports. */
export function linkClientModules(entry: string, readModule: ClientModuleReader): string {
  const order: string[] = [];
  const linked = new Map<string, string>();
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    if (linked.has(name)) return;
    if (visiting.has(name)) throw new Error(`client modules import each other in a cycle through ${name}`);
    visiting.add(name);
    const { code, imports } = linkModule(name, readModule(name));
    for (const dependency of imports) visit(dependency);
    visiting.delete(name);
    linked.set(name, code);
    order.push(name);
  };
  visit(entry);
  return [
    "'use strict';",
    ...order.map((name) => linked.get(name)!),
    `const hotpathClient = ${moduleVariable(entry)};`,
  ].join('\n');
}

function linkModule(name: string, source: string): { code: string; imports: string[] } {
  const imports: string[] = [];
  const exported: string[] = [];
  const body = source.split('\n').flatMap((line) => {
    if (SOURCE_MAP.test(line)) return [];
    if (/^import[\s{*]/.test(line)) {
      const match = IMPORT.exec(line.trim());
      if (!match) throw new Error(`${name}: unsupported import (only import { a, b as c } from './x.js'): ${line}`);
      imports.push(match[2]!);
      return [`const { ${renameBindings(match[1]!)} } = ${moduleVariable(match[2]!)};`];
    }
    if (line.startsWith('export ')) {
      const match = EXPORT_DECLARATION.exec(line);
      if (!match) throw new Error(`${name}: unsupported export (only exported declarations): ${line}`);
      exported.push(match[1]!);
      return [line.slice('export '.length)];
    }
    return [line];
  });
  const code = [
    `const ${moduleVariable(name)} = (() => {`,
    ...body,
    `return { ${exported.join(', ')} };`,
    '})();',
  ].join('\n');
  return { code, imports };
}

/** "a, b as c" → "a, b: c" (import bindings as destructuring). */
function renameBindings(bindings: string): string {
  return bindings
    .split(',')
    .map((binding) => binding.trim())
    .filter((binding) => binding.length > 0)
    .map((binding) => binding.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, '$1: $2'))
    .join(', ');
}

function moduleVariable(name: string): string {
  return `module_${name.replace(/\W/g, '_')}`;
}
