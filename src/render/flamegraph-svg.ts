// A self-contained interactive flame graph SVG in the manner of flamegraph.pl and py-spy: warm colours by
// function name, hover details, click to zoom, regex search with the matched share; inline script, no fetches.

import { buildCallTree, callTreeNodeLabel, type CallTreeOptions, type Profile } from '../profile/index.js';
import { buildFlameLayout, type FlameRect } from './flame-layout.js';

export interface FlamegraphSvgOptions extends CallTreeOptions {
  title?: string;
  /** Total image width in px. */
  width?: number;
  /** Frames narrower than this many px are left out, with their callees (keeps big profiles small). */
  minWidth?: number;
  /** Root at the top, as py-spy draws by default. */
  icicle?: boolean;
  /** What a sample is called in tooltips: "samples", "ms"… */
  countName?: string;
}

const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
/** Average glyph width of the font at FONT_SIZE, to truncate labels without measuring text. */
const CHAR_WIDTH = 0.59 * FONT_SIZE;
const PAD = 10;
const FRAMES_TOP = 36;
const SYNTHETIC_FILL = 'rgb(200,200,212)';
const MATCH_FILL = 'rgb(230,0,230)';

export function renderFlamegraphSvg(profile: Profile, options: FlamegraphSvgOptions = {}): string {
  const width = options.width ?? 1200;
  const chartWidth = width - 2 * PAD;
  const countName = options.countName ?? 'samples';
  const { root } = buildCallTree(profile, options);
  const layout = buildFlameLayout(root, { minWidth: (options.minWidth ?? 0.1) / chartWidth, icicle: options.icicle });
  const height = FRAMES_TOP + layout.rows * FRAME_HEIGHT + 30;
  const detailsY = height - 10;
  const indexOf = new Map(layout.rects.map((rect, index) => [rect.node, index]));
  const frames = layout.rects.map((rect) =>
    renderFrame(rect, root.total, chartWidth, countName, rect.node.parent ? (indexOf.get(rect.node.parent) ?? -1) : -1),
  );
  const title = options.title ?? (options.icicle ? 'Icicle Graph' : 'Flame Graph');
  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    `<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" data-total="${root.total}" data-chart-width="${chartWidth}">`,
    `<style>${STYLE}</style>`,
    `<rect class="bg" x="0" y="0" width="${width}" height="${height}"/>`,
    `<text id="title" x="${width / 2}" y="24" text-anchor="middle">${escapeXml(title)}</text>`,
    `<text id="unzoom" class="ctl h" x="${PAD}" y="24">Reset Zoom</text>`,
    `<text id="search" class="ctl" x="${width - PAD}" y="24" text-anchor="end">Search</text>`,
    ...(root.total === 0
      ? [`<text x="${width / 2}" y="${FRAMES_TOP + 12}" text-anchor="middle">No samples</text>`]
      : []),
    `<g id="frames">`,
    ...frames,
    '</g>',
    `<text id="details" x="${PAD}" y="${detailsY}"> </text>`,
    `<text id="matched" x="${width - PAD}" y="${detailsY}" text-anchor="end"> </text>`,
    `<script type="text/ecmascript"><![CDATA[${buildScript()}]]></script>`,
    '</svg>',
    '',
  ].join('\n');
}

function renderFrame(rect: FlameRect, total: number, chartWidth: number, countName: string, parent: number): string {
  const { node } = rect;
  const label = callTreeNodeLabel(node);
  const percent = ((100 * node.total) / total).toFixed(2);
  const tooltip = `${label} (${formatCount(node.total)} ${countName}, ${percent}%)`;
  const x = PAD + rect.x * chartWidth;
  const y = FRAMES_TOP + rect.row * FRAME_HEIGHT;
  const widthPx = rect.width * chartWidth;
  const fill = node.kind === 'frame' ? warmColour(node.name) : SYNTHETIC_FILL;
  return (
    `<g class="f" data-label="${escapeXml(label)}" data-x="${rect.x}" data-w="${rect.width}" ` +
    `data-s="${node.total}" data-p="${parent}">` +
    `<title>${escapeXml(tooltip)}</title>` +
    `<rect x="${round(x)}" y="${y}" width="${round(widthPx)}" height="${FRAME_HEIGHT - 1}" fill="${fill}" rx="2" ry="2"/>` +
    `<text x="${round(x + 3)}" y="${y + FONT_SIZE - 0.5}">${escapeXml(fitLabel(label, widthPx, CHAR_WIDTH))}</text>` +
    '</g>'
  );
}

/**
 * The label cut to what fits `widthPx`, ending in "..", or '' when not even three characters fit.
 * Counts code points so a cut never splits a surrogate pair. Also runs in the SVG (injected as source),
 * so it must use nothing but its arguments and built-ins.
 */
export function fitLabel(label: string, widthPx: number, charWidth: number): string {
  const fits = Math.floor((widthPx - 6) / charWidth);
  if (fits < 3) return '';
  const chars = Array.from(label);
  return chars.length <= fits ? label : chars.slice(0, fits - 2).join('') + '..';
}

/** Warm colour from a hash of the function name: the same function has the same colour in every graph. */
export function warmColour(name: string): string {
  const hash = fnv1a(name);
  const red = 205 + (hash & 0x3f) * (50 / 63);
  const green = 70 + ((hash >>> 6) & 0xff) * (160 / 255);
  const blue = ((hash >>> 14) & 0x3f) * (55 / 63);
  return `rgb(${Math.round(red)},${Math.round(green)},${Math.round(blue)})`;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * Escapes for both text and attribute values; characters XML 1.0 forbids (control bytes, lone surrogates)
 * become U+FFFD so a strange name read from a target can never make the file unparseable.
 */
export function escapeXml(text: string): string {
  return text
    .replace(
      /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      '\ufffd',
    )
    .replace(/[&<>"'\t\n\r]/g, (char) => XML_ENTITIES[char]!);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  // Attribute values would fold these into spaces; character references keep them.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+$)/g, ',');
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}

const STYLE = [
  'text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: 12px; fill: rgb(0,0,0); }',
  '#title { font-size: 17px; }',
  '.bg { fill: rgb(248,248,248); }',
  '.ctl { cursor: pointer; fill: rgb(60,60,160); }',
  '.ctl:hover { text-decoration: underline; }',
  '.f { cursor: pointer; }',
  '.f text { pointer-events: none; }',
  '.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }',
  '.p rect { fill-opacity: 0.5; }',
  '.h { display: none; }',
].join('\n');

/**
 * The viewer: frames carry their layout as fractions (data-x, data-w) and their parent's index (data-p), so
 * zoom, search and the matched share are exact, with no text parsing.
 */
function buildScript(): string {
  return `
(function () {
  'use strict';
  ${fitLabel.toString()}
  var svg = document.documentElement;
  var total = Number(svg.getAttribute('data-total'));
  var chartWidth = Number(svg.getAttribute('data-chart-width'));
  var details = document.getElementById('details');
  var matched = document.getElementById('matched');
  var unzoomControl = document.getElementById('unzoom');
  var searchControl = document.getElementById('search');
  var frames = Array.prototype.slice.call(document.querySelectorAll('#frames > g.f')).map(function (g) {
    return {
      g: g,
      rect: g.querySelector('rect'),
      text: g.querySelector('text'),
      label: g.getAttribute('data-label'),
      x: Number(g.getAttribute('data-x')),
      w: Number(g.getAttribute('data-w')),
      samples: Number(g.getAttribute('data-s')),
      parent: Number(g.getAttribute('data-p')),
      fill: g.querySelector('rect').getAttribute('fill'),
      info: g.querySelector('title').textContent
    };
  });
  var indexOfGroup = new Map(frames.map(function (frame, i) { return [frame.g, i]; }));
  var searching = false;

  function frameIndexOf(target) {
    var g = target && target.closest ? target.closest('g.f') : null;
    return g ? indexOfGroup.get(g) : -1;
  }

  function isRoot(index) {
    return frames[index].parent < 0;
  }

  function isWithin(index, ancestor) {
    for (var i = index; i >= 0; i = frames[i].parent) if (i === ancestor) return true;
    return false;
  }

  function place(frame, x, w) {
    var px = ${PAD} + x * chartWidth;
    var wpx = w * chartWidth;
    frame.rect.setAttribute('x', px.toFixed(2));
    frame.rect.setAttribute('width', wpx.toFixed(2));
    frame.text.setAttribute('x', (px + 3).toFixed(2));
    frame.text.textContent = fitLabel(frame.label, wpx, ${CHAR_WIDTH});
  }

  function zoom(index) {
    var target = frames[index];
    frames.forEach(function (frame, i) {
      var inside = isWithin(i, index);
      var above = !inside && isWithin(index, i);
      frame.g.classList.toggle('h', !inside && !above);
      frame.g.classList.toggle('p', above);
      if (inside) place(frame, (frame.x - target.x) / target.w, frame.w / target.w);
      else if (above) place(frame, 0, 1);
    });
    unzoomControl.classList.remove('h');
  }

  function unzoom() {
    frames.forEach(function (frame) {
      frame.g.classList.remove('h', 'p');
      place(frame, frame.x, frame.w);
    });
    unzoomControl.classList.add('h');
  }

  function search(pattern) {
    var regex;
    try {
      regex = new RegExp(pattern);
    } catch (error) {
      details.textContent = 'Invalid regular expression: ' + pattern;
      return;
    }
    var hits = frames.map(function (frame) { return regex.test(frame.label); });
    var samples = 0;
    frames.forEach(function (frame, i) {
      frame.rect.setAttribute('fill', hits[i] ? '${MATCH_FILL}' : frame.fill);
      if (hits[i] && !hasMatchedAncestor(i, hits)) samples += frame.samples;
    });
    searching = true;
    searchControl.textContent = 'Reset Search';
    matched.textContent = 'Matched: ' + (total ? (100 * samples / total).toFixed(1) : '0.0') + '%';
  }

  function hasMatchedAncestor(index, hits) {
    for (var i = frames[index].parent; i >= 0; i = frames[i].parent) if (hits[i]) return true;
    return false;
  }

  function resetSearch() {
    frames.forEach(function (frame) { frame.rect.setAttribute('fill', frame.fill); });
    searching = false;
    searchControl.textContent = 'Search';
    matched.textContent = ' ';
  }

  function promptSearch() {
    var pattern = window.prompt('Search frames (regular expression, e.g. ^handle or views\\\\.py)', '');
    if (pattern) search(pattern);
  }

  var framesGroup = document.getElementById('frames');
  framesGroup.addEventListener('mouseover', function (event) {
    var index = frameIndexOf(event.target);
    if (index >= 0) details.textContent = frames[index].info;
  });
  framesGroup.addEventListener('mouseout', function (event) {
    if (frameIndexOf(event.target) >= 0) details.textContent = ' ';
  });
  framesGroup.addEventListener('click', function (event) {
    var index = frameIndexOf(event.target);
    if (index < 0) return;
    if (isRoot(index)) unzoom();
    else zoom(index);
  });
  unzoomControl.addEventListener('click', unzoom);
  searchControl.addEventListener('click', function () {
    if (searching) resetSearch();
    else promptSearch();
  });
  window.addEventListener('keydown', function (event) {
    if ((event.ctrlKey || event.metaKey) && (event.key === 'f' || event.key === 'F')) {
      event.preventDefault();
      promptSearch();
    } else if (event.key === 'Escape') {
      unzoom();
      resetSearch();
    }
  });
})();
`;
}
