// A subscription in GraphiQL, in headless Chromium with every request outside loopback
// blocked: type the document, run it, and report the first RESULTS distinct results the
// result pane shows (a subscription's pane shows each new result in place).
// usage: node graphiql.mjs URL DOCUMENT RESULTS
// Prints one JSON object: {"results", "requests", "blocked", "consoleErrors"}.
import { chromium } from "playwright-core";

const [url, document_, wanted] = process.argv.slice(2);
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
const report = { results: [], requests: [], blocked: [], consoleErrors: [] };
try {
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const target = new URL(route.request().url());
    if (!LOOPBACK.has(target.hostname)) {
      report.blocked.push(target.href);
      return route.abort("blockedbyclient");
    }
    report.requests.push(`${route.request().method()} ${target.pathname}`);
    return route.continue();
  });
  const page = await context.newPage();
  page.on("websocket", (socket) => report.requests.push(`WS ${new URL(socket.url()).pathname}`));
  page.on("console", (message) => { if (message.type() === "error") report.consoleErrors.push(message.text()); });
  page.on("pageerror", (error) => report.consoleErrors.push(String(error)));
  await page.goto(`${url}/graphql`, { waitUntil: "load" });
  await page.locator(".graphiql-execute-button").waitFor({ timeout: 30000 });
  await page.waitForLoadState("networkidle"); // the schema's introspection done
  // The editors are CodeMirror 5: set the document as a user's typing would end, and
  // give GraphiQL the moment it takes to parse it (it tells a subscription by its AST).
  await page.evaluate((text) => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(text), document_);
  await page.waitForTimeout(500);
  await page.locator(".graphiql-execute-button").click();
  const shown = () => page.evaluate(() => document.querySelector(".result-window .CodeMirror").CodeMirror.getValue());
  const deadline = Date.now() + 30000;
  let last = "";
  while (report.results.length < Number(wanted) && Date.now() < deadline) {
    const text = await shown();
    if (text && text !== last) {
      last = text;
      try { report.results.push(JSON.parse(text)); } catch { /* a partial render: read again */ }
    }
    await page.waitForTimeout(50);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
