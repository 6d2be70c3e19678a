// What every browser test shares: Debian's Chromium started headless by playwright-core, pages
// that fail the test on any console error, `nabla` commands that serve pages (their URL read
// from what they print), and screenshots saved under target/browser-artefacts/.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Where screenshots go: target/browser-artefacts/ of the repository. */
export const ARTEFACTS = resolve(HERE, '../../target/browser-artefacts');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Starts headless Chromium with a fresh, empty profile (removed again by `close()`) and none of
 * its background connections; resolves to its browser context.
 */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'nabla-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

/**
 * A new page of the browser context `context`, recording console errors and uncaught exceptions
 * in `page.errors` (which a test checks is empty), opened at `url`.
 */
export async function openPage(context, url, viewport = { width: 1400, height: 1000 }) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') page.errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => page.errors.push(`exception: ${error.message}`));
  if (url) await page.goto(url);
  return page;
}

/** Saves a full-page screenshot as target/browser-artefacts/<name>.png; returns its path. */
export async function screenshot(page, name, options = {}) {
  mkdirSync(ARTEFACTS, { recursive: true });
  const path = join(ARTEFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true, ...options });
  return path;
}

/** The nabla binary under test, from NABLA_BIN. */
export function nablaBin() {
  const bin = process.env.NABLA_BIN;
  if (!bin) throw new Error('NABLA_BIN is not set: give the path of the nabla binary to test');
  return bin;
}

/**
 * Runs `nabla ARGS...` until it prints the URL it serves; resolves to {url, child, output()}.
 * Rejects if it exits first or prints no URL within `timeoutMs`.
 */
export function serve(args, { timeoutMs = 60000, cwd } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(nablaBin(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`nabla ${args.join(' ')} printed no URL within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const read = (chunk) => {
      output += chunk;
      const match = output.match(/http:\/\/(127\.0\.0\.1|localhost):\d+\//);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ url: match[0], child, output: () => output });
      }
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nabla ${args.join(' ')} exited with ${code} before serving:\n${output}`));
    });
  });
}

/** Stops a server started by `serve`. */
export function stop(server) {
  if (server && server.child.exitCode === null) server.child.kill('SIGINT');
}
