// The dashboard page's three files: an HTML shell, its stylesheet and its script, all served by hotpath itself (the
// Content-Security-Policy allows nothing else). The script links the compiled client modules of src/web/client with
// the HTML report's (src/render/html-client) the way the report does, so both pages share one flame graph.

import { readFileSync } from 'node:fs';
import { linkClientModules } from '../render/client-linker.js';
import { escapeHtml } from '../render/html-page.js';
import { PAGE_STYLE } from '../render/page-style.js';

export const SCRIPT_PATH = '/dashboard.js';
export const STYLE_PATH = '/dashboard.css';

/** The client modules of this layer; every other module the script imports is the HTML report's. */
const DASHBOARD_MODULES = new Set(['dashboard-app', 'dashboard-model']);
const REPORT_CLIENT_IMPORT = /from '\.\.\/\.\.\/render\/html-client\//g;

export function renderDashboardHtml(title: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<link rel="stylesheet" href="${STYLE_PATH}">`,
    `<script src="${SCRIPT_PATH}" defer></script>`,
    '</head>',
    '<body>',
    '<noscript>The dashboard needs JavaScript; `hotpath record` writes files that do not.</noscript>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function buildDashboardScript(): string {
  return `${linkClientModules('dashboard-app', readModule)}\nhotpathClient.startDashboard();\n`;
}

export const DASHBOARD_STYLE = `${PAGE_STYLE}
header .toolbar { margin: 4px 0 10px; }
.status { color: var(--muted); }
.status[data-state=stopped], .status[data-state=error] { color: #b00020; font-weight: 600; }
.status[data-state=paused] { color: var(--accent); font-weight: 600; }
.downloads { margin-left: auto; }
.events { margin: 0; padding-left: 20px; max-height: 200px; overflow: auto; color: var(--muted); font-size: 12px; }
`;

/**
 * A compiled client module by name. The linker knows only imports of sibling modules ('./x.js'), so this layer's
 * imports of the report's client ('../../render/html-client/x.js') are read as such: the names never clash.
 */
function readModule(name: string): string {
  if (!DASHBOARD_MODULES.has(name))
    return readFileSync(new URL(`../render/html-client/${name}.js`, import.meta.url), 'utf8');
  return readFileSync(new URL(`./client/${name}.js`, import.meta.url), 'utf8').replace(
    REPORT_CLIENT_IMPORT,
    "from './",
  );
}
