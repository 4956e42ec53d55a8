#!/usr/bin/env bash
# A job in doubt on the status page, in headless Chromium: its card carries a filled
# amber "in_doubt" badge (unlike a held job's outlined one), an amber border, the
# reason in plain words, the creates sent and the command that decides; a held job
# says "held" (not "queued") with why and `sorad approve NAME`; the filters "held" and
# "in_doubt" keep only theirs; and when `sorad resolve --drop` fails it, the page follows
# live (it leaves the filtered list without a reload). Screenshots land in
# build/test-output/httpd_doubt/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/httpd_lib.sh"

[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run scripts/install-deps.sh"
nodedir="$SORAD_SOURCE_DIR/tests/node"
[ -d "$nodedir/node_modules/playwright-core" ] ||
	fail "playwright-core is missing in tests/node: run scripts/install-deps.sh"

REASON='The create was sent but its answer was lost, and the service lists no prompts, so sorad cannot tell whether it made the video.'
# put_record NAME STATE ERROR_CODE ERROR: a record as the daemon would have left it.
put_record() {
	local now
	now=$(date +%s)
	mkdir -p "$T/state/jobs"
	jq -n --arg name "$1" --arg state "$2" --arg code "$3" --arg error "$4" \
		--argjson now "$now" '{
			version: 1, name: $name, state: $state, prompt: "A lighthouse in a storm.",
			model: "sora-2", size: "1280x720", seconds: 4, progress: 0,
			claimed_at: ($now - 60), submit_at: ($now - 50), attempts: 1,
			creates: (if $state == "in_doubt" then 1 else 0 end), creates_allowed: 1,
			cost_usd: 0.4, error: $error, error_code: $code
		}' >"$T/state/jobs/$1.json"
}
put_record doubt in_doubt in_doubt "$REASON"
put_record calm held approval_required "It would cost more than approve_over_usd."

sim_start --api-key "$SORAD_KEY"
httpd_start
out="$SORAD_BUILD_DIR/test-output/httpd_doubt"
rm -rf "$out"
mkdir -p "$out"
cat >"$T/doubt.mjs" <<'EOF'
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
const require = createRequire(process.env.NODE_DIR + "/");
const { chromium } = require("playwright-core");
const { STATUS_URL: base, OUT_DIR: outDir, REASON: reason } = process.env;
function fail(msg) { throw new Error("FAIL: " + msg); }
function expectEq(what, want, got) {
  if (JSON.stringify(want) !== JSON.stringify(got))
    fail(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/");
  await page.waitForSelector("#live.on", { timeout: 15000 });
  await page.waitForSelector('li[data-name="doubt"] .badge');
  const badge = (n) => page.$eval(`li[data-name="${n}"] .badge`, (b) => ({
    text: b.textContent, cls: b.className, bg: getComputedStyle(b).backgroundColor }));
  const d = await badge("doubt"), q = await badge("calm");
  // The badges name sorad's states as `sorad list` does; held is not "queued".
  expectEq("the badge of a job in doubt", ["in_doubt", "badge in_doubt"], [d.text, d.cls]);
  expectEq("the badge of a held job", ["held", "badge held"], [q.text, q.cls]);
  if (d.bg === q.bg || d.bg === "rgba(0, 0, 0, 0)")
    fail(`the in doubt badge is not filled apart from queued's: ${d.bg} vs ${q.bg}`);
  const border = await page.$eval('li[data-name="doubt"] .card', (c) => getComputedStyle(c).borderTopColor);
  const plain = await page.$eval('li[data-name="calm"] .card', (c) => getComputedStyle(c).borderTopColor);
  if (border === plain) fail("the card of a job in doubt has no border of its own");
  const held = await page.$eval('li[data-name="calm"] .doubt', (p) => p.textContent);
  for (const want of ["Awaiting your approval.", "It would cost more than approve_over_usd.",
                      "Nothing has been spent.", "sorad approve calm"])
    if (!held.includes(want)) fail(`the held card does not say '${want}': ${held}`);
  await page.selectOption("#filter", "held");
  await page.waitForFunction(() => [...document.querySelectorAll("#grid > li")]
    .map((li) => li.dataset.name).join() === "calm");
  expectEq("the count of held", "1 video (held)", await page.$eval("#counts", (e) => e.textContent));
  await page.selectOption("#filter", "");
  await page.waitForFunction(() => document.querySelectorAll("#grid > li").length === 2);
  const note = await page.$eval('li[data-name="doubt"] .doubt', (p) => p.textContent);
  for (const want of ["Needs your decision.", "1 create sent.", reason,
                      "sorad resolve doubt --adopt VIDEO_ID | --resubmit | --drop"])
    if (!note.includes(want)) fail(`the card does not say '${want}': ${note}`);
  expectEq("no progress bar while in doubt", 0,
    await page.$$eval('li[data-name="doubt"] .progress', (e) => e.length));
  await page.screenshot({ path: outDir + "/all.png", fullPage: true });

  await page.selectOption("#filter", "in_doubt");
  await page.waitForFunction(() => [...document.querySelectorAll("#grid > li")]
    .map((li) => li.dataset.name).join() === "doubt");
  expectEq("the count", "1 video (in_doubt)", await page.$eval("#counts", (e) => e.textContent));
  await page.screenshot({ path: outDir + "/filtered.png", fullPage: true });

  // Decided: the job fails and leaves the filtered list, live.
  execFileSync(process.env.SORAD_BIN, ["resolve", "-c", process.env.CONF, "doubt", "--drop"],
               { stdio: "inherit" });
  await page.waitForFunction(() => document.querySelectorAll("#grid > li").length === 0,
                             null, { timeout: 15000 });
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log("screenshot: " + outDir);
} finally {
  await browser.close();
}
EOF
NODE_DIR=$nodedir STATUS_URL=$H OUT_DIR=$out REASON=$REASON SORAD_BIN=$SORAD_BIN \
	CONF="$T/sorad.conf" HOME="$T" node "$T/doubt.mjs" 2>&1 | tee "$T/browser.log" ||
	fail "the browser test failed (see above)"
grep -q '^screenshot: ' "$T/browser.log" || fail "the browser test did not finish"
wait_failed doubt
sorad_stop
echo "ok: a job in doubt on the page; screenshots in $out"
