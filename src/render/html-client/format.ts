// Number and label formatting shared by the HTML pages' client code and the renderers that write them, so a
// number reads the same in a tooltip, a table and an SVG.

/** 1234567 → "1,234,567"; fractional counts keep one decimal. */
export function formatCount(count: number): string {
  const text = Number.isInteger(count) ? String(count) : count.toFixed(1);
  const [whole, fraction] = text.split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** Bytes in binary units: "512 B", "4.0 KiB", "12.3 MiB", "-1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.abs(bytes);
  let unit = 0;
  for (; value >= 1024 && unit < units.length - 1; unit++) value /= 1024;
  const text = unit === 0 ? String(Math.round(value)) : value.toFixed(1);
  return `${bytes < 0 ? '-' : ''}${text} ${units[unit]}`;
}

/** A fraction (0..1) as a percentage: 0.1234 → "12.34%". */
export function formatPercent(fraction: number, digits = 2): string {
  return `${(100 * fraction).toFixed(digits)}%`;
}

/** A change of share in percentage points, always signed: 0.042 → "+4.20 pts", -0.3 → "-30.00 pts". */
export function formatChange(fraction: number, digits = 2): string {
  const points = 100 * fraction;
  const text = Math.abs(points).toFixed(digits);
  if (Number(text) === 0) return `${(0).toFixed(digits)} pts`;
  return `${points > 0 ? '+' : '-'}${text} pts`;
}

/** Milliseconds as "850 ms", "12.3 s" or "4 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

/** "function (file:line)" like py-spy; without the line when it is unknown, without the file when there is none. */
export function formatFrameLabel(name: string, file: string, line: number): string {
  if (!file) return name;
  return line > 0 ? `${name} (${file}:${line})` : `${name} (${file})`;
}

/**
 * The label cut to at most `fits` characters, ending in "..", or '' when not even three fit. Counts code
 * points so a cut never splits a surrogate pair.
 */
export function truncateLabel(label: string, fits: number): string {
  if (fits < 3) return '';
  if (label.length <= fits) return label;
  const chars = Array.from(label);
  return chars.length <= fits ? label : chars.slice(0, fits - 2).join('') + '..';
}

/** A frame's place in a diff: "120 samples, 12.00% (was 8.00%, +4.00 pts)"; shares are fractions (0..1). */
export function formatDiffSummary(afterSamples: number, afterShare: number, beforeShare: number): string {
  return (
    `${formatCount(afterSamples)} samples, ${formatPercent(afterShare)} ` +
    `(was ${formatPercent(beforeShare)}, ${formatChange(afterShare - beforeShare)})`
  );
}
