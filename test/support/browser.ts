// Headless Debian Chromium for the browser tests (playwright-core): one launch with the same flags everywhere, a
// fresh profile folder per browser removed on close, and a screenshot check that a page is not blank.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** No GPU, sandbox or first-run work, and no traffic of the browser's own (updates, sync, QUIC probes). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A test's `skip` value: false with Chromium installed, else the reason. */
export const chromiumSkipReason: false | string = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium)`;

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page's scripts, in order. */
  pageErrors: string[];
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>;
}

export async function openBrowser(viewport: { width: number; height: number }): Promise<BrowserSession> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'hotpath-chromium-'));
  let context: BrowserContext;
  try {
    // A persistent context is how playwright takes a --user-data-dir; a fresh one per browser shares nothing.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    context,
    page,
    pageErrors,
    close: async () => {
      try {
        await context.close();
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

export interface ScreenshotStats {
  /** Distinct RGB colours. */
  colours: number;
  /** Variance of the pixels' luminance: near 0 for a blank page. */
  variance: number;
}

/** Takes a screenshot and decodes it in the page itself, so no image library is needed. */
export async function screenshotStats(page: Page): Promise<ScreenshotStats> {
  const png = await page.screenshot();
  return page.evaluate(
    async (dataUrl) => {
      const image = new Image();
      image.src = dataUrl;
      await image.decode();
      // Asked for in the XHTML namespace, a canvas can be made in SVG documents as well as in HTML ones.
      const canvas = document.createElementNS('http://www.w3.org/1999/xhtml', 'canvas') as HTMLCanvasElement;
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, image.width, image.height).data;
      const seen = new Set<number>();
      let sum = 0;
      let sumSquares = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        seen.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
        const luminance = 0.2126 * pixels[i]! + 0.7152 * pixels[i + 1]! + 0.0722 * pixels[i + 2]!;
        sum += luminance;
        sumSquares += luminance * luminance;
      }
      const count = pixels.length / 4;
      return { colours: seen.size, variance: sumSquares / count - (sum / count) ** 2 };
    },
    `data:image/png;base64,${png.toString('base64')}`,
  );
}
