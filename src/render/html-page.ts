// The shell of hotpath's HTML pages: one self-contained file with inline CSS, the linked client script and the
// page data as JSON. A Content-Security-Policy forbids every fetch, so the page provably works offline.

import { readFileSync } from 'node:fs';
import { linkClientModules } from './client-linker.js';
import type { DiffData, ReportData } from './html-client/page-data.js';
import { PAGE_STYLE } from './page-style.js';

export interface HtmlPage {
  title: string;
  /** The client module whose `startPage(data)` builds the page. */
  entry: 'report-app' | 'diff-app';
  data: ReportData | DiffData;
}

const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

export function renderHtmlPage(page: HtmlPage): string {
  const script = linkClientModules(page.entry, readClientModule);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style>${PAGE_STYLE}</style>`,
    '</head>',
    '<body>',
    '<noscript>This report needs JavaScript to draw its views.</noscript>',
    `<script type="application/json" id="hotpath-data">${embedJson(page.data)}</script>`,
    `<script>\n${script}\nhotpathClient.startPage(JSON.parse(document.getElementById('hotpath-data').textContent));\n</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The compiled client module next to this file (dist/src/render/html-client/NAME.js). */
function readClientModule(name: string): string {
  return readFileSync(new URL(`./html-client/${name}.js`, import.meta.url), 'utf8');
}

/** JSON that cannot end its <script> element early: every "<" becomes its \u escape. */
export function embedJson(data: unknown): string {
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
