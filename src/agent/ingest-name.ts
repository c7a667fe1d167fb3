// The `name` query parameter of Pyroscope's /ingest: the application name and its static tags,
// `app{key=value,...}`. Pyroscope's parser has no escapes, so characters it would misread are refused here.

import { HotpathError } from '../errors/index.js';

export type Tags = ReadonlyMap<string, string>;

/** Pyroscope's service names: letters, digits and `_ . - /`. */
const APP_NAME = /^[A-Za-z0-9_.\-/]+$/;
/** Label names: letters, digits, `_` and `.`; a leading `__` is reserved for the server's own labels. */
const TAG_KEY = /^(?!__)[A-Za-z0-9_.]+$/;
/** A value ends at `,` or `}` and is trimmed; `{` and `=` are refused too, as Pyroscope's own agents do. */
const TAG_VALUE = /^[^{},=\s]+$/;

/**
 * `app{k=v,...}` with the tags in the order given. The profile type comes from the pprof sample types, so no
 * `.cpu` suffix: with format=pprof Pyroscope would keep it in the service name.
 */
export function buildIngestName(appName: string, tags: Tags): string {
  checkAppName(appName);
  for (const [key, value] of tags) checkTag(key, value);
  return `${appName}{${[...tags].map(([key, value]) => `${key}=${value}`).join(',')}}`;
}

export function checkAppName(appName: string): void {
  if (!APP_NAME.test(appName)) {
    throw new HotpathError(
      'usage',
      `the application name "${appName}" is not one Pyroscope accepts`,
      'use letters, digits and _ . - / only, e.g. --app-name shop.web',
    );
  }
}

/** `KEY=VALUE` of --tag (the first `=` splits), checked. */
export function parseTag(text: string): [string, string] {
  const split = text.indexOf('=');
  if (split <= 0) throw new HotpathError('usage', `--tag takes KEY=VALUE, not "${text}"`);
  const tag: [string, string] = [text.slice(0, split).trim(), text.slice(split + 1).trim()];
  checkTag(...tag);
  return tag;
}

/** Tags as PYROSCOPE_LABELS writes them: `key=value,key=value`. */
export function parseTagList(text: string): [string, string][] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(parseTag);
}

function checkTag(key: string, value: string): void {
  if (!TAG_KEY.test(key)) {
    throw new HotpathError(
      'usage',
      `the tag name "${key}" is not one Pyroscope accepts`,
      'use letters, digits, _ and . only, not starting with __',
    );
  }
  if (!TAG_VALUE.test(value)) {
    throw new HotpathError(
      'usage',
      `the value of tag ${key} ("${value}") cannot be sent to Pyroscope`,
      'Pyroscope names have no escapes: leave out spaces and the characters { } , =',
    );
  }
}
