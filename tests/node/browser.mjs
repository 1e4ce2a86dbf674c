// GraphiQL in headless Chromium with every request outside loopback blocked: load the
// page, run the default tab's query, and report what the page shows.
// usage: node browser.mjs URL [SCREENSHOT.png]
// Prints one JSON object: {"title", "tabs", "result", "requests", "blocked", "consoleErrors"}.
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
  ],
});
const report = { requests: [], blocked: [], consoleErrors: [] };
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (['http:', 'https:', 'ws:', 'wss:'].includes(target.protocol) && !LOOPBACK.has(target.hostname)) {
      report.blocked.push(target.href);
      return route.abort('blockedbyclient');
    }
    report.requests.push(`${route.request().method()} ${target.pathname}`);
    return route.continue();
  });
  const page = await context.newPage();
  page.on('console', (message) => { if (message.type() === 'error') report.consoleErrors.push(message.text()); });
  page.on('pageerror', (error) => report.consoleErrors.push(String(error)));
  await page.goto(`${url}/graphql`, { waitUntil: 'load' });
  await page.locator('.graphiql-execute-button').waitFor({ timeout: 30000 });
  report.title = await page.title();
  report.tabs = await page.locator('.graphiql-tab').allInnerTexts();
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await result.filter({ hasText: 'totalCount' }).waitFor({ timeout: 30000 });
  report.result = JSON.parse(await page.evaluate(() => {
    // The result editor is CodeMirror 5: its value is the response as GraphiQL shows it.
    return document.querySelector('.result-window .CodeMirror').CodeMirror.getValue();
  }));
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
