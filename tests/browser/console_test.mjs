// The web console in a real browser (Debian's chromium through puppeteer-core): starts the real
// `tongban serve` on a free loopback port (shipped definitions, demo principals, simulated clock)
// and clicks through as the people who use it — an applicant applies, a clerk notifies a
// correction, the applicant answers it, clerk, reviewer and approver take the case to approval in
// the workbench, the applicant tracks it on the public page, an auditor reads the timeline and
// replays the case as of a moment, a modeller validates a broken definition. axe-core checks every
// page; screenshots go to --out; the first render (cold cache) is printed.
//
// Usage: node console_test.mjs --binary build/tools/tongban [--source-dir ../..] [--out DIR]
//        [--console-dir api/console]   (serve the assets from disk instead of the binary's)
// Ends with "browser: N passed, N failed, N skipped"; exit 1 when any check failed.
import {spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const sourceDir = path.resolve(option('source-dir', path.join(here, '..', '..')));
const binary = path.resolve(option('binary', path.join(sourceDir, 'build', 'tools', 'tongban')));
const outDir = path.resolve(option('out', path.join(sourceDir, 'build', 'console-screenshots')));
const consoleDir = option('console-dir', '');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const START = '2026-03-02T09:00:00+08:00';
const TOKENS = {
  applicant: 'demo-applicant-token', clerk: 'demo-clerk-token', reviewer: 'demo-reviewer-token',
  approver: 'demo-approver-token', auditor: 'demo-auditor-token', admin: 'demo-admin-token',
};
const XSS_NAME = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">示范厂房';

// ---- Checks ------------------------------------------------------------------------------------

const results = {passed: 0, failed: 0, skipped: 0};
async function check(name, fn) {
  try {
    await fn();
    results.passed += 1;
    console.log(`PASS ${name}`);
  } catch (e) {
    results.failed += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}
function skip(name, reason) {
  results.skipped += 1;
  console.log(`SKIP ${name}: ${reason}`);
}
function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// ---- The server --------------------------------------------------------------------------------

async function startServer(work) {
  const args = ['serve', '--db', path.join(work, 'console.db'), '--definitions', 'definitions',
    '--principals', 'definitions/principals/demo.json', '--listen', '127.0.0.1:0',
    '--clock', `simulated:${START}`];
  if (consoleDir) args.push('--console-dir', path.resolve(sourceDir, consoleDir));
  const server = spawn(binary, args, {cwd: sourceDir, stdio: ['ignore', 'pipe', 'pipe']});
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  const address = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  return {server, base: `http://${address}`, stderr: () => stderr};
}

async function api(base, method, route, token, body) {
  const response = await fetch(base + route, {method, headers: {
    ...(token ? {Authorization: `Bearer ${token}`} : {}),
    ...(body ? {'Content-Type': 'application/json'} : {}),
  }, body: body ? JSON.stringify(body) : undefined});
  const text = await response.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = text; }
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return data;
}

// ---- Pages -------------------------------------------------------------------------------------

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const pageProblems = [];

async function newPage(context, viewport = {width: 1280, height: 900}) {
  const page = await context.newPage();
  await page.setViewport(viewport);
  page.on('pageerror', (e) => pageProblems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs every 4xx answer; those the test provokes are checked where they happen.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      pageProblems.push(`console error on ${page.url()}: ${m.text()}`);
    }
  });
  return page;
}

// axe-core, run through the DevTools protocol (the page's own CSP forbids injected scripts).
async function axeCheck(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']});
    return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.filter((x) => !serious.includes(x))) {
    console.log(`  axe (${name}, ${v.impact}): ${v.id} — ${v.help} ${v.nodes.join(', ')}`);
  }
  expect(serious.length === 0, `axe on ${name}: ${JSON.stringify(serious, null, 1)}`);
}

async function shot(page, name, fullPage = true) {
  await page.screenshot({path: path.join(outDir, `${name}.png`), fullPage});
}

const text = (page, selector = 'main') => page.$eval(selector, (el) => el.innerText);

async function signIn(page, base, who) {
  await page.goto(`${base}/#/cases`, {waitUntil: 'networkidle0'});
  if (await page.$('header .session button')) {
    await page.click('header .session button');  // 退出
  }
  await page.waitForSelector('input[name=token]');
  await page.type('input[name=token]', TOKENS[who]);
  await Promise.all([page.waitForSelector('main h1'), page.click('form.signin button[type=submit]')]);
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === '工作台');
}

async function openCase(page, base, id) {
  await page.goto(`${base}/#/cases/${id}`, {waitUntil: 'networkidle0'});
  await page.waitForSelector('section.actions');
}

// Clicks an action's button, fills its form with `fill(form)`, submits, waits for the new state.
async function act(page, actionId, fill) {
  await page.click(`button[data-action="${actionId}"]`);
  const form = await page.waitForSelector(`form[data-form-action="${actionId}"]`);
  if (fill) await fill(form);
  await form.$eval('button[type=submit]', (b) => b.click());
  // The case is shown again with "已办理：…" in its status line, or the form shows the problem.
  await page.waitForFunction(() => document.querySelector('main .live')?.textContent.startsWith('已办理') ||
    document.querySelector('form [role=alert]'), {timeout: 10000});
  const alert = await page.$('form [role=alert]');
  if (alert) throw new Error(`action ${actionId} failed: ${await alert.evaluate((e) => e.innerText)}`);
}

// ---- The run -----------------------------------------------------------------------------------

async function main() {
  mkdirSync(outDir, {recursive: true});
  const work = mkdtempSync(path.join(tmpdir(), 'tongban-console-'));
  const {server, base, stderr} = await startServer(work);
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // Chromium's sandbox cannot run as root (CI runs as root); everywhere else it stays on.
    args: (process.getuid?.() === 0 ? ['--no-sandbox'] : []).concat(['--lang=zh-CN']),
  });
  try {
    await run(browser, base);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('exit', resolve));
    rmSync(work, {recursive: true, force: true});
    if (results.failed) console.log(`server log:\n${stderr()}`);
  }
}

async function run(browser, base) {
  const clock = (advance) => api(base, 'POST', '/v1/admin/clock', TOKENS.admin, {advance});

  // Weight of the assets as they would travel gzipped.
  await check('the console weighs under 300 KB gzipped', async () => {
    const dir = path.join(sourceDir, 'api', 'console');
    let raw = 0;
    let gzipped = 0;
    for (const name of readdirSync(dir)) {
      const bytes = readFileSync(path.join(dir, name));
      raw += bytes.length;
      gzipped += gzipSync(bytes, {level: 9}).length;
    }
    console.log(`weight: ${(raw / 1024).toFixed(1)} KB raw, ${(gzipped / 1024).toFixed(1)} KB gzipped (${readdirSync(dir).length} files)`);
    expect(gzipped < 300 * 1024, `gzipped ${gzipped} bytes`);
  });

  // First render, cold cache: a fresh incognito context (empty cache) per load, after one warm-up
  // load so that starting the browser's renderer is not counted. Median of five.
  await check('first render measured (cold cache)', async () => {
    const warm = await browser.createBrowserContext();
    await (await newPage(warm)).goto(`${base}/healthz`);
    await warm.close();
    for (const route of ['/', '/track/TB-0?code=0']) {
      const runs = [];
      for (let i = 0; i < 5; i += 1) {
        const fresh = await browser.createBrowserContext();
        const page = await newPage(fresh);
        await page.goto(base + route, {waitUntil: 'load'});
        await page.waitForSelector('main h1');
        runs.push(await page.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          return {fcp: fcp ? fcp.startTime : NaN, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
        }));
        await fresh.close();
      }
      const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[2];
      console.log(`first render ${route} (cold cache, median of 5): first-contentful-paint ` +
        `${median('fcp').toFixed(0)} ms, DOMContentLoaded ${median('dcl').toFixed(0)} ms, ` +
        `load ${median('load').toFixed(0)} ms`);
      expect(runs.every((r) => Number.isFinite(r.fcp)), 'no first-contentful-paint entry');
    }
  });

  const context = await browser.createBrowserContext();
  const page = await newPage(context);
  const actionHeaders = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().includes('/actions')) actionHeaders.push(r.headers());
    expect(!r.url().includes('demo-'), `a token in a URL: ${r.url()}`);
  });

  // Home: the tracking form and the ways in.
  await check('home page: tracking form in Chinese', async () => {
    await page.goto(`${base}/`, {waitUntil: 'networkidle0'});
    const body = await text(page);
    expect(body.includes('办件进度查询') && body.includes('查询码'), body);
    expect(await page.$eval('html', (e) => e.lang) === 'zh-CN', 'lang');
    await axeCheck(page, 'home');
    await shot(page, '01-home');
  });

  // The applicant applies through the console, with markup in the project name.
  let caseId = '';
  let number = '';
  let code = '';
  await check('applicant applies in the console; a <script> in the project name shows as text', async () => {
    await signIn(page, base, 'applicant');
    await axeCheck(page, 'workbench (applicant)');
    await page.click('a[href="#/cases/new"]');
    await page.waitForSelector('select[name=definition]');
    await page.select('select[name=definition]', 'construction-permit');
    await page.waitForSelector('input[name=project_name]');
    const example = JSON.parse(readFileSync(path.join(sourceDir, 'docs/examples/construction-permit-application.json'), 'utf8'));
    for (const [key, value] of Object.entries({...example.form, project_name: XSS_NAME})) {
      const tag = await page.$eval(`[name=${key}]`, (e) => e.tagName + (e.type || ''));
      if (tag.startsWith('SELECT')) await page.select(`[name=${key}]`, String(value));
      else if (tag.includes('checkbox')) { if (value) await page.click(`[name=${key}]`); }
      else await page.$eval(`[name=${key}]`, (e, v) => { e.value = v; }, String(value));
    }
    for (const m of example.materials) await page.click(`input[name=materials][value=${m}]`);
    await axeCheck(page, 'new application');
    await shot(page, '02-new-application');
    await page.click('main form button.primary[type=submit]');
    await page.waitForSelector('section.actions');
    caseId = decodeURIComponent(page.url().split('#/cases/')[1]);
    const body = await text(page);
    expect(body.includes('<script>window.__pwned=1</script>'), 'the project name is not shown as text');
    expect(await page.evaluate(() => window.__pwned) === undefined, 'markup from data ran');
    expect(await page.$$eval('main script, main img[src=x]', (n) => n.length) === 0, 'markup from data became elements');
    const link = await page.$eval('a[href^="/track/"]', (a) => a.getAttribute('href'));
    [, number, code] = /^\/track\/([^?]+)\?code=(.+)$/.exec(link);
    number = decodeURIComponent(number);
    code = decodeURIComponent(code);
    expect(body.includes('已提交，待受理'), body);
    await axeCheck(page, 'case (applicant)');
  });

  // The clerk notifies a correction an hour later.
  await check('clerk notifies a correction (一次性告知) from the action form', async () => {
    await clock({hours: 1});
    await signIn(page, base, 'clerk');
    await openCase(page, base, caseId);
    const buttons = await page.$$eval('button[data-action]', (b) => b.map((x) => x.dataset.action));
    expect(buttons.includes('accept') && buttons.includes('request_correction'), buttons.join());
    await act(page, 'request_correction', async (form) => {
      await form.$eval('input[value=land_approval]', (b) => b.click());
      await form.$eval('textarea[name=comment]', (t) => { t.value = '用地批准手续未提交'; });
    });
    const body = await text(page);
    expect(body.includes('待补正材料'), body);
    expect(await page.$eval('td.missing', (t) => t.closest('tr').innerText).then((t) => t.includes('用地')), 'checklist');
    await axeCheck(page, 'case (clerk)');
    await shot(page, '03-case-correction');
  });

  // The public page shows the notice and what is missing, without a token.
  const publicContext = await browser.createBrowserContext();
  const publicPage = await newPage(publicContext);
  await check('public tracking shows the correction notice and the missing material', async () => {
    await publicPage.goto(`${base}/track/${encodeURIComponent(number)}?code=${encodeURIComponent(code)}`, {waitUntil: 'networkidle0'});
    await publicPage.waitForSelector('#track-title');
    const body = await text(publicPage);
    expect(body.includes('待补正'), body);  // the API's status_title
    expect(!/\bapplicant\b/.test(body), `no English actor words: ${body}`);
    expect(body.includes('用地批准'), `missing material: ${body}`);
    expect(body.includes('北京时间'), 'time zone named');
    expect(/2026年3月2日 09:00|2026年3月2日 10:00/.test(body), `Beijing time: ${body}`);
    await axeCheck(publicPage, 'tracking (correction)');
    await shot(publicPage, '04-tracking-correction');
  });

  await check('applicant answers the correction', async () => {
    await clock({hours: 20});
    await signIn(page, base, 'applicant');
    await openCase(page, base, caseId);
    await act(page, 'supply_correction', async (form) => {
      const checked = await form.$$eval('input[type=checkbox]:checked', (b) => b.map((x) => x.value));
      expect(checked.join() === 'land_approval', `the missing material is pre-selected: ${checked}`);
    });
    expect((await text(page)).includes('已提交，待受理'), 'back to submitted');
  });

  await check('clerk accepts, reviewer passes, approver approves (If-Match sent)', async () => {
    await clock({hours: 1});
    await signIn(page, base, 'clerk');
    await openCase(page, base, caseId);
    await act(page, 'accept');
    expect((await text(page)).includes('审查中'), 'under review');
    await clock({hours: 2});
    await signIn(page, base, 'reviewer');
    await openCase(page, base, caseId);
    await act(page, 'pass', async (form) => {
      await form.$eval('textarea[name=comment]', (t) => { t.value = '材料齐全，符合法定条件'; });
    });
    await clock({hours: 2});
    await signIn(page, base, 'approver');
    await openCase(page, base, caseId);
    await axeCheck(page, 'case (approver)');
    await shot(page, '05-case-approver');
    await act(page, 'approve');
    const body = await text(page);
    expect(body.includes('准予许可'), body);
    expect(actionHeaders.length >= 5 && actionHeaders.every((h) => /^"\d+"$/.test(h['if-match'] || '')),
      `If-Match on every action: ${JSON.stringify(actionHeaders.map((h) => h['if-match']))}`);
  });

  await check('a stale case is refused with words from the problem document', async () => {
    await signIn(page, base, 'applicant');
    const created = await api(base, 'POST', '/v1/cases', TOKENS.applicant,
      JSON.parse(readFileSync(path.join(sourceDir, 'docs/examples/construction-permit-application.json'), 'utf8')));
    await signIn(page, base, 'clerk');
    await openCase(page, base, created.id);
    await api(base, 'POST', `/v1/cases/${created.id}/actions`, TOKENS.clerk, {action: 'accept'});  // someone else
    await page.click('button[data-action="accept"]');
    const form = await page.waitForSelector('form[data-form-action="accept"]');
    await form.$eval('button[type=submit]', (b) => b.click());
    await page.waitForSelector('form [role=alert]');
    const alert = await text(page, 'form [role=alert]');
    expect(alert.includes('已被他人修改'), alert);
    await axeCheck(page, 'case with a problem');
    await shot(page, '06-case-stale');
  });

  await check('workbench lists cases with counts by light, status, item and organ; filters', async () => {
    await page.goto(`${base}/#/cases`, {waitUntil: 'networkidle0'});
    await page.waitForSelector('[data-count]');
    const counts = await page.$$eval('[data-count]', (a) => a.map((x) => x.dataset.count));
    for (const group of ['light:', 'status:', 'definition:', 'organ:']) {
      expect(counts.some((c) => c.startsWith(group)), `counts by ${group} ${counts}`);
    }
    expect(counts.includes('status:approved'), counts.join());
    await axeCheck(page, 'workbench');
    await shot(page, '07-workbench');
    await page.click('a[data-count="status:approved"]');
    await page.waitForFunction(() => location.hash.includes('status=approved') && document.querySelector('table.cases'));
    const rows = await page.$$eval('table.cases tbody tr', (r) => r.map((x) => x.innerText));
    expect(rows.length === 1 && rows[0].includes(number), rows.join('\n'));
  });

  await check('public tracking after approval: status, steps, due dates, Beijing time', async () => {
    await publicPage.goto(`${base}/track/${encodeURIComponent(number)}?code=${encodeURIComponent(code)}`, {waitUntil: 'networkidle0'});
    await publicPage.waitForSelector('#track-title');
    const body = await text(publicPage);
    expect(body.includes('准予许可'), body);
    expect(body.includes('××开发区行政审批局'), 'organ');
    expect(body.includes('承诺办结日期') && /承诺办结日期\s*2026年\d+月\d+日/.test(body), `due date: ${body}`);
    expect(body.includes('法定办结日期'), 'statutory due');
    expect(/2026年3月3日 (0[5-9]|1\d):\d\d/.test(body), `a time in Beijing time: ${body}`);
    expect(!/T\d\d:\d\d:\d\d/.test(body) && !body.includes('approved'), 'no machine codes');
    await axeCheck(publicPage, 'tracking (approved)');
    await shot(publicPage, '08-tracking-approved');
    await publicPage.setViewport({width: 390, height: 844, isMobile: true});
    await shot(publicPage, '09-tracking-mobile');
    await publicPage.emulateMediaType('print');
    await shot(publicPage, '10-tracking-print');
    await publicPage.emulateMediaType(null);
  });

  await check('public tracking: a wrong code says so', async () => {
    await publicPage.goto(`${base}/track/${encodeURIComponent(number)}?code=WRONG`, {waitUntil: 'networkidle0'});
    await publicPage.waitForSelector('[role=alert]');
    expect((await text(publicPage)).includes('未查到该办件'), 'not found words');
  });

  await check('auditor: timeline with actors, authority and hashes; verification', async () => {
    await signIn(page, base, 'auditor');
    await page.goto(`${base}/#/audit/${caseId}`, {waitUntil: 'networkidle0'});
    await page.waitForSelector('[data-verify]');
    expect(await page.$eval('[data-verify]', (e) => e.dataset.verify) === 'ok', 'chain verifies');
    const events = await page.$$eval('.audit-event', (e) => e.map((x) => x.innerText));
    expect(events.length === 6, `6 events: ${events.length}`);
    const all = events.join('\n');
    expect(all.includes('窗口受理员') && all.includes('审批负责人'), 'actors');
    expect(all.includes('依据：本机关实施'), `authority: ${all}`);
    expect((await page.$$('.audit-event code.hash')).length >= 12, 'hashes');
    await axeCheck(page, 'audit timeline');
    await shot(page, '11-audit-timeline');
  });

  await check('auditor: "as of" replays the case at a Beijing-time moment', async () => {
    // 10:30 on 2 March, Beijing time: after the correction notice (10:00), before it was answered.
    await page.$eval('input[name=at]', (e) => { e.value = '2026-03-02T10:30'; });
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('[data-as-of]');
    const replay = await text(page, '[data-as-of]');
    expect(replay.includes('待补正材料') && /版本\s*2\b/.test(replay), replay);
    await page.$eval('input[name=at]', (e) => { e.value = '2026-03-02T08:30'; });
    await page.click('.inline-form button[type=submit]');
    await page.waitForSelector('.as-of-result [role=alert]');
    await shot(page, '12-audit-as-of');
  });

  await check('auditor: the ledger of the registers and its check', async () => {
    await page.goto(`${base}/#/audit`, {waitUntil: 'networkidle0'});
    await page.waitForSelector('[data-verify]');
    expect(await page.$eval('[data-verify]', (e) => e.dataset.verify) === 'ok', 'ledger verifies');
    await axeCheck(page, 'audit overview');
    await shot(page, '13-audit-ledger');
  });

  // The modeller.
  const permit = readFileSync(path.join(sourceDir, 'definitions/items/construction-permit.json'), 'utf8');
  const brokenLines = permit.replace('"to": "decide"', '"to": "nowhere"').split('\n');
  const brokenLine = brokenLines.findIndex((l) => l.includes('"to": "nowhere"')) + 1;
  const broken = brokenLines.join('\n');
  await check('modeller: definitions, the process graph and the JSON', async () => {
    await signIn(page, base, 'admin');
    await page.goto(`${base}/#/definitions`, {waitUntil: 'networkidle0'});
    await page.waitForSelector('#defs-title');
    expect((await text(page)).includes('建筑工程施工许可'), 'listed');
    await axeCheck(page, 'modeller list');
    await shot(page, '14-modeller');
    await page.goto(`${base}/#/definitions/construction-permit`, {waitUntil: 'networkidle0'});
    await page.waitForSelector('.graph img, .graph pre, .graph [role=alert]');
    const svg = await page.$('.graph img');
    if (svg) {
      const ok = await svg.evaluate((img) => img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:'));
      expect(ok, 'the SVG graph loads from a blob: URL');
    } else {
      const pre = await text(page, '.graph');
      expect(pre.includes('flowchart') || pre.includes('graph') || pre.includes('stateDiagram'), pre);
      console.log('  (the server draws no SVG graph: the Mermaid text is shown)');
    }
    expect((await page.$eval('figure.json pre', (p) => p.textContent)).includes('"construction-permit"'), 'JSON');
    await axeCheck(page, 'definition');
    await shot(page, '15-definition-graph');
  });

  await check('modeller: deploying a broken definition marks its error at the line', async () => {
    await page.$eval('textarea[name=definition]', (t, v) => { t.value = v; }, broken);
    await page.click('button[data-run=deploy]');
    await page.waitForSelector('.code-view li.marked');
    const marked = await page.$$eval('.code-view li.marked', (l) => l.map((x) => Number(x.value)));
    expect(marked.includes(brokenLine), `line ${brokenLine} marked: ${marked}`);
    expect(await page.$eval('textarea[name=definition]', (t) => t.dataset.cursorLine) === String(brokenLine), 'cursor');
  });

  const validateAvailable = (await fetch(`${base}/v1/definitions/validate`, {method: 'POST',
    headers: {Authorization: `Bearer ${TOKENS.admin}`, 'Content-Type': 'application/json'}, body: '{}'})).status !== 404;
  if (!validateAvailable) {
    skip('modeller: the validate box marks a broken definition\'s error at its line',
      'this server has no POST /v1/definitions/validate yet (branch console-api)');
  } else {
    await check('modeller: the validate box marks a broken definition\'s error at its line', async () => {
      await page.goto(`${base}/#/definitions`, {waitUntil: 'networkidle0'});
      await page.waitForSelector('textarea[name=definition]');
      await page.$eval('textarea[name=definition]', (t, v) => { t.value = v; }, broken);
      await page.click('button[data-run=validate]');
      await page.waitForSelector('.code-view li.marked');
      const marked = await page.$$eval('.code-view li.marked', (l) => l.map((x) => Number(x.value)));
      expect(marked.includes(brokenLine), `line ${brokenLine} marked: ${marked}`);
      const listed = await text(page, '.diagnostics');
      expect(listed.includes(`第 ${brokenLine} 行`), listed);
      await page.click(`.diagnostics button[data-line="${brokenLine}"]`);
      const cursor = await page.$eval('textarea[name=definition]', (t) => t.value.slice(0, t.selectionStart).split('\n').length);
      expect(cursor === brokenLine, `cursor on line ${cursor}`);
      await axeCheck(page, 'validate box');
      await shot(page, '16-validate');
    });
  }

  // 一件事: a bundle's form is its own list of fields, and the licence registration issues is not
  // the applicant's to supply.
  await check('applicant applies for 开办企业一件事: the bundle form, issued materials not asked', async () => {
    await signIn(page, base, 'applicant');
    await page.click('a[href="#/cases/new"]');
    await page.waitForSelector('select[name=definition]');
    await page.select('select[name=definition]', 'business-startup');
    await page.waitForSelector('input[name=enterprise_name]');
    const example = JSON.parse(readFileSync(path.join(sourceDir, 'docs/examples/business-startup-application.json'), 'utf8'));
    for (const [key, value] of Object.entries(example.form)) {
      const tag = await page.$eval(`[name=${key}]`, (e) => e.tagName + (e.type || ''));
      if (tag.startsWith('SELECT')) await page.select(`[name=${key}]`, String(value));
      else if (tag.includes('checkbox')) { if (value) await page.click(`[name=${key}]`); }
      else await page.$eval(`[name=${key}]`, (e, v) => { e.value = v; }, String(value));
    }
    expect(await page.$('input[name=materials][value=business_licence]') === null,
      'the business licence is offered to the applicant');
    const issued = await text(page, '.issued-material');
    expect(issued.includes('营业执照') && issued.includes('无须提交'), issued);
    for (const m of [...example.materials, 'articles']) await page.click(`input[name=materials][value=${m}]`);
    await axeCheck(page, 'new bundle application');
    await page.click('main form button.primary[type=submit]');
    await page.waitForFunction(() => location.hash.startsWith('#/cases/c'));
    await page.waitForSelector('main h1');
    await page.waitForFunction(() => document.querySelector('main').textContent.includes('企业设立登记'));
    const body = await text(page);
    expect(body.includes('开办企业一件事'), body);
  });

  await check('no page error, console error or CSP violation', async () => {
    expect(pageProblems.length === 0, pageProblems.join('\n'));
  });
}

main().then(() => {
  console.log(`browser: ${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
  process.exit(results.failed ? 1 : 0);
}, (e) => {
  console.log(`FAIL the run: ${e.stack || e}`);
  console.log(`browser: ${results.passed} passed, ${results.failed + 1} failed, ${results.skipped} skipped`);
  process.exit(1);
});
