// The HTML report: one self-contained file (opens offline) with the profile embedded as compact JSON and
// client code that draws a canvas flame graph, function and endpoint tables, a timeline and line heat.

import type { Profile } from '../profile/index.js';
import { renderHtmlPage } from './html-page.js';
import { buildReportData } from './html-report-data.js';

export interface HtmlReportOptions {
  title?: string;
}

export function renderHtmlReport(profile: Profile, options: HtmlReportOptions = {}): string {
  const title = options.title ?? `hotpath: ${profile.meta.command || 'profile'}`;
  return renderHtmlPage({ title, entry: 'report-app', data: buildReportData(profile, title) });
}
