// The CSS of hotpath's HTML pages (report and diff), inlined into each page.

export const PAGE_STYLE = `
:root { --fg: #1d1d24; --muted: #666a76; --line: #dcdce4; --bg: #fafafa; --accent: #3c3ca0; --hot: #d2461e; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 40px; font: 13px/1.4 system-ui, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 15px; margin: 0 0 8px; }
h3 { font-size: 13px; margin: 12px 0 4px; }
section { margin: 18px 0 0; padding: 12px 14px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.hint { color: var(--muted); font-weight: normal; font-size: 12px; margin-left: 8px; }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 8px; }
.toolbar input[type=search] { width: 280px; padding: 3px 6px; font: inherit; }
button { font: inherit; padding: 2px 10px; cursor: pointer; }
.matched { color: var(--muted); min-width: 10em; }
.matched.error { color: #b00020; }
.filters { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 8px; min-height: 22px; align-items: center; }
.chip { background: #ececf8; border: 1px solid #c8c8e6; border-radius: 10px; padding: 1px 4px 1px 9px; }
.chip button { border: none; background: none; padding: 0 4px; }
.flame-wrap { position: relative; overflow-x: hidden; }
canvas { display: block; }
.flame-canvas { width: 100%; cursor: pointer; }
.timeline-canvas { width: 100%; cursor: crosshair; }
.memory-canvas { width: 100%; }
.memory-totals { margin: 6px 0 0; padding-left: 18px; color: var(--muted); }
.tooltip { position: fixed; z-index: 10; pointer-events: none; max-width: 640px; padding: 4px 8px; background: rgba(20,20,30,0.92);
  color: #fff; border-radius: 4px; white-space: pre-wrap; font-size: 12px; }
.tooltip[hidden] { display: none; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { position: sticky; top: 0; background: #f3f3f7; white-space: nowrap; }
th.sortable { cursor: pointer; user-select: none; }
th.sorted-asc::after { content: " \\25B2"; font-size: 10px; }
th.sorted-desc::after { content: " \\25BC"; font-size: 10px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { overflow-wrap: anywhere; }
td.file { color: var(--muted); overflow-wrap: anywhere; }
tr.clickable { cursor: pointer; }
tr.clickable:hover { background: #f5f5fb; }
tr.selected { background: #e6e6fa; }
.table-note { color: var(--muted); margin: 4px 0 0; }
.scroll { max-height: 480px; overflow: auto; }
.hot-function { margin-bottom: 14px; }
.hot-function h3 .file { color: var(--muted); font-weight: normal; }
table.lines td { border: none; padding: 0 8px; font: 12px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }
table.lines td.src { white-space: pre; width: 100%; }
table.lines tr.sampled td.src { background: linear-gradient(to right, rgba(210,70,30,var(--heat)) 0 100%); }
table.lines tr.gap td { color: var(--muted); }
.no-source { color: var(--muted); font-size: 12px; }
.grew { color: #c8141e; }
.shrank { color: #1e3cc8; }
.legend { color: var(--muted); margin: 0 0 8px; }
`;
