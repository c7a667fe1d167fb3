// Frame colours shared by the canvas flame graphs and the diff SVG: a warm colour per function name (stable
// across graphs), and the differential scale, red for a share that grew and blue for one that shrank.

export const MATCH_COLOUR = 'rgb(230,0,230)';
export const SYNTHETIC_COLOUR = 'rgb(200,200,212)';
export const UNCHANGED_COLOUR = 'rgb(224,224,224)';

/** Changes smaller than this share (a millionth) are noise from floating-point division, drawn as unchanged. */
const CHANGE_EPSILON = 1e-6;

/** A warm colour picked by a hash of the function name, so one function has one colour everywhere. */
export function functionColour(name: string): string {
  let hash = 5381;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 33) + name.charCodeAt(i)) | 0;
  const mix = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d) >>> 0;
  const hue = 8 + (mix % 44);
  const saturation = 70 + ((mix >>> 8) % 25);
  const lightness = 55 + ((mix >>> 16) % 12);
  return `hsl(${hue},${saturation}%,${lightness}%)`;
}

/**
 * Red for a positive change, blue for a negative one, deeper as |change| nears `maxChange` (the largest
 * |change| in the graph); light grey for no change.
 */
export function diffColour(change: number, maxChange: number): string {
  if (Math.abs(change) < CHANGE_EPSILON || maxChange <= 0) return UNCHANGED_COLOUR;
  const strength = Math.min(1, Math.abs(change) / maxChange);
  const pale = Math.round(215 - 165 * strength);
  return change > 0 ? `rgb(255,${pale},${pale})` : `rgb(${pale},${pale},255)`;
}
