// The status page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): it lists the jobs, a new job's progress bar moves and turns into a
// thumbnail on completion without a reload, the filter, sort and pagination work, the
// player plays (readyState reaches HAVE_ENOUGH_DATA), it is usable at a phone's width,
// and it never requests anything from another origin. Screenshots go to OUT_DIR.
//
// Run by tests/integration/httpd_browser.sh, which starts sora-sim and sorad and sets
// STATUS_URL (the endpoint), INBOX (to drop a job into) and OUT_DIR.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const base = process.env.STATUS_URL;
const inbox = process.env.INBOX;
const outDir = process.env.OUT_DIR;
if (!base || !inbox || !outDir) throw new Error("STATUS_URL, INBOX and OUT_DIR must be set");
fs.mkdirSync(outDir, { recursive: true });

function fail(msg) {
  throw new Error("FAIL: " + msg);
}
function expectEq(what, want, got) {
  if (JSON.stringify(want) !== JSON.stringify(got))
    fail(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--autoplay-policy=no-user-gesture-required"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const foreign = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  const names = () => page.$$eval("#grid > li", (lis) => lis.map((li) => li.dataset.name));

  // Two per page: three finished jobs make two pages.
  await page.goto(base + "/?per_page=2");
  await page.waitForSelector("#live.on", { timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("#grid > li").length === 2);
  await page.evaluate(() => { window.__noReload = true; });
  expectEq("first page, newest first", ["doomed", "beta"], await names());
  expectEq("next enabled", false, await page.$eval("#next", (b) => b.disabled));
  expectEq("prev disabled", true, await page.$eval("#prev", (b) => b.disabled));
  await page.click("#next");
  await page.waitForFunction(() => document.querySelector("#page").textContent === "Page 2");
  await page.waitForFunction(() => document.querySelector("#grid > li")?.dataset.name === "alpha");
  expectEq("second page", ["alpha"], await names());
  expectEq("next disabled on the last page", true, await page.$eval("#next", (b) => b.disabled));
  await page.click("#prev");
  await page.waitForFunction(() => document.querySelector("#grid > li")?.dataset.name === "doomed");

  // The filter, and the failure's plain-words reason.
  await page.selectOption("#filter", "failed");
  await page.waitForFunction(() => [...document.querySelectorAll("#grid > li")].every((li) => li.dataset.status === "failed"));
  expectEq("failed only", ["doomed"], await names());
  const reason = await page.$eval('li[data-name="doomed"] .error', (p) => p.textContent);
  if (!reason || reason.length < 10) fail("the failure shows no reason: " + reason);
  await page.selectOption("#filter", "done"); // sorad's state names, as `sorad list --state`
  await page.waitForFunction(() => document.querySelector("#grid > li")?.dataset.name === "beta");
  expectEq("completed only", ["beta", "alpha"], await names());
  // Sort by date, oldest first.
  await page.selectOption("#sort", "asc");
  await page.waitForFunction(() => document.querySelector("#grid > li")?.dataset.name === "alpha");
  expectEq("oldest first", ["alpha", "beta"], await names());
  await page.selectOption("#sort", "desc");
  await page.selectOption("#filter", "");
  await page.waitForFunction(() => document.querySelector("#grid > li")?.dataset.name === "doomed");

  // A new job: its card appears, its progress bar moves, and it turns into a thumbnail.
  fs.writeFileSync(path.join(inbox, ".live.txt.tmp"), "A kite festival on a beach, wide shot.");
  fs.renameSync(path.join(inbox, ".live.txt.tmp"), path.join(inbox, "live.txt"));
  await page.waitForSelector('li[data-name="live"]', { timeout: 20000 });
  await page.waitForSelector('li[data-name="live"] [role="progressbar"]', { timeout: 20000 });
  const seen = new Set();
  const progress = () => page.$eval('li[data-name="live"]', (li) => {
    const bar = li.querySelector('[role="progressbar"]');
    return bar ? +bar.getAttribute("aria-valuenow") : (li.querySelector("img.thumb") ? 100 : -1);
  }).catch(() => -1);
  const t0 = Date.now();
  let shot = false;
  for (;;) {
    const p = await progress();
    if (p >= 0 && p < 100) seen.add(p);
    if (!shot && p > 0 && p < 100) {
      await page.screenshot({ path: path.join(outDir, "status-page-progress.png") });
      shot = true;
    }
    if (p === 100) break;
    if (Date.now() - t0 > 60000) fail("the new job did not complete on the page; progress seen " + [...seen]);
    await page.waitForTimeout(50);
  }
  const moving = [...seen].filter((p) => p > 0);
  if (moving.length < 2) fail("the progress bar did not move: values seen " + [...seen].join(", "));
  await page.waitForFunction(() => {
    const img = document.querySelector('li[data-name="live"] img.thumb');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 15000 });
  expectEq("no reload happened", true, await page.evaluate(() => window.__noReload === true));

  // The detail view: the player plays the video, the three downloads are offered.
  await page.click('li[data-name="alpha"] button.open').catch(async () => {
    await page.click("#next");
    await page.click('li[data-name="alpha"] button.open');
  });
  await page.waitForSelector("#detail[open]");
  await page.waitForFunction(() => document.querySelector("#player").readyState >= 4, null, { timeout: 20000 });
  await page.evaluate(() => { const v = document.querySelector("#player"); v.muted = true; return v.play(); });
  await page.waitForFunction(() => document.querySelector("#player").currentTime > 0.2, null, { timeout: 20000 });
  const links = await page.$$eval("#downloads a", (as) => as.map((a) => [a.getAttribute("href"), a.getAttribute("download")]));
  expectEq("download links", [
    ["/api/v1/videos/alpha/content?variant=video", "alpha.mp4"],
    ["/api/v1/videos/alpha/content?variant=thumbnail", "alpha.thumbnail.webp"],
    ["/api/v1/videos/alpha/content?variant=spritesheet", "alpha.spritesheet.jpg"]], links);
  await page.screenshot({ path: path.join(outDir, "status-page-player.png") });
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector("#detail").open);

  // Keyboard: the cards are buttons with names; Enter opens one.
  await page.focus("#grid > li button.open");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#detail[open]");
  await page.keyboard.press("Escape");
  // Every control has a label.
  const unlabelled = await page.$$eval("select, input, button", (els) =>
    els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
      .map((e) => e.outerHTML.slice(0, 80)));
  expectEq("unlabelled controls", [], unlabelled);

  const file = path.join(outDir, "status-page.png");
  await page.screenshot({ path: file, fullPage: true });

  // A phone's width: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 360, height: 780 });
  await page.waitForTimeout(100);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  if (overflow > 360) fail("the page is " + overflow + " px wide at a 360 px viewport");
  await page.screenshot({ path: path.join(outDir, "status-page-phone.png"), fullPage: true });

  expectEq("requests to other origins", [], foreign);
  expectEq("script errors", [], errors);
  console.log("screenshot: " + file);
} finally {
  await browser.close();
}
