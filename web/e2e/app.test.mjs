// Browser test of the web app against a running server. Plain Node (ESM) + playwright-core,
// with the system's Chromium (no browser download).
//
// Env: BASE_URL (the server, e.g. http://127.0.0.1:8080), ADMIN_EMAIL, ADMIN_PASSWORD (an
// existing admin), RESUME_FILE (a resume PDF whose category has listings after a run; default
// e2e/fixtures/resume.pdf), SCREENSHOT_DIR (default e2e/screenshots), CHROMIUM_PATH
// (default /usr/bin/chromium). Exits 0 on success, 1 with a message on the first failure.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') {
    console.error(`e2e: set ${name}`);
    process.exit(2);
  }
  return v;
};
const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const ADMIN_EMAIL = env('ADMIN_EMAIL');
const ADMIN_PASSWORD = env('ADMIN_PASSWORD');
const RESUME_FILE = env('RESUME_FILE', fileURLToPath(new URL('./fixtures/resume.pdf', import.meta.url)));
const SCREENSHOT_DIR = env('SCREENSHOT_DIR', fileURLToPath(new URL('./screenshots', import.meta.url)));
const CHROMIUM_PATH = env('CHROMIUM_PATH', '/usr/bin/chromium');
mkdirSync(SCREENSHOT_DIR, { recursive: true });

const T = { short: 10_000, long: 45_000 };
const started = Date.now();
const rand = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const USER_EMAIL = `e2e-${rand}@example.com`;
const USER_PASSWORD = `e2e-password-${rand}`;

const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
const problems = []; // CSP violations and uncaught page errors
let page;
let current = 'setup';

function watch(p) {
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
}

async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const p = await context.newPage();
  p.setDefaultTimeout(T.short);
  watch(p);
  return p;
}

async function shot(name, fullPage = true) {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage });
}

async function step(name, fn) {
  current = name;
  const t = Date.now();
  await fn();
  assert.deepEqual(problems, [], `no CSP violations or page errors (during "${name}")`);
  console.log(`ok - ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}

/** Polls `fn` until it returns a truthy value. */
async function until(what, fn, timeout = T.short) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) assert.fail(`timed out after ${timeout / 1000} s waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const button = (name, scope = page) => scope.getByRole('button', { name, exact: true });
const matchesList = () => page.getByRole('list', { name: 'Matches' });
const matchItems = () => matchesList().locator(':scope > li');
const titles = () => matchItems().locator('.match-title').allInnerTexts();
/** The list once it is not loading. */
const settled = async () => (await matchesList().getAttribute('aria-busy')) !== 'true';

async function signIn(email, password) {
  await page.goto(`${BASE_URL}/#/signin`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await button('Sign in').click();
  await button('Sign out').waitFor();
}

try {
  page = await newPage();

  // 1. Admin: a category, a run followed live, sign out.
  await step('admin signs in', () => signIn(ADMIN_EMAIL, ADMIN_PASSWORD));

  const catName = `E2E Category ${rand}`;
  await step('admin adds a category', async () => {
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('link', { name: 'Categories', exact: true }).click();
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Add a category' }) });
    await form.getByLabel('Slug', { exact: true }).fill(`e2e_${rand}`.slice(0, 40));
    await form.getByLabel('Name', { exact: true }).fill(catName);
    await button('Add category', form).click();
    await page.getByRole('list', { name: 'Categories' }).getByRole('heading', { name: catName }).waitFor();
    await shot('admin-categories');
  });

  await step('admin runs the pipeline and follows it live', async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.evaluate(() => (window.__e2eNoReload = true));
    // What the subscription delivers over /graphql/ws.
    const frames = [];
    page.on('websocket', (ws) => {
      if (!ws.url().endsWith('/graphql/ws')) return;
      ws.on('framereceived', (f) => typeof f.payload === 'string' && frames.push(f.payload));
    });
    await button('Run pipeline').click();
    const status = page.locator('.run-panel .run-status');
    await status.waitFor();
    const final = await until(
      'the run to end (SUCCEEDED or PARTIAL)',
      async () => {
        const s = (await status.innerText()).trim();
        if (/FAILED/.test(s)) assert.fail(`the run FAILED: ${await page.locator('.run-panel').innerText()}`);
        return /SUCCEEDED|PARTIAL/.test(s) && s;
      },
      T.long,
    );
    assert.equal(await page.evaluate(() => window.__e2eNoReload), true, 'the page was not reloaded');
    await until('the end of the run over the subscription', () =>
      frames.some((f) => f.includes('"pipelineRunProgress"') && /"status":"(SUCCEEDED|PARTIAL)"/.test(f)),
    );
    console.log(`   run ended: ${final.replace(/\s+/g, ' ')}`);
    await shot('admin-run');
  });

  await step('admin signs out', async () => {
    await button('Sign out').click();
    await button('Sign in').waitFor();
  });

  // 2. Job seeker.
  await step('a new user signs up', async () => {
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email', { exact: true }).fill(USER_EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(USER_PASSWORD);
    await button('Sign up').click();
    await page.getByRole('heading', { name: 'Your resume' }).waitFor();
    await page.getByText('No resume yet.').waitFor();
  });

  let category;
  await step('uploads a resume and sees the category assigned', async () => {
    await page.getByLabel('Resume file', { exact: true }).setInputFiles(RESUME_FILE);
    await button('Upload resume').click();
    const name = page.locator('.assignment-done .category-name');
    await name.waitFor({ timeout: T.long });
    category = (await name.innerText()).trim();
    assert.ok(category.length > 0, 'a category name is shown');
    console.log(`   category: ${category}`);
    await shot('resume');
  });

  let first;
  await step('sees matches sorted by score', async () => {
    await page.getByRole('link', { name: 'Matches', exact: true }).click();
    await matchesList().waitFor({ timeout: T.long });
    const scores = await matchItems().evaluateAll((lis) => lis.map((li) => Number(li.dataset.score)));
    assert.ok(scores.length > 0, 'some matches');
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1] >= scores[i], `scores descend: ${scores.join(', ')}`);
    first = (await titles())[0];
    await shot('matches');
  });

  await step('saves the first match', async () => {
    const li = matchItems().first();
    await button('Save', li).click();
    await until('the first match to show Saved', async () => (await li.locator('.status').innerText()).includes('Saved'));
    assert.equal(await button('Save', li).getAttribute('aria-pressed'), 'true');
  });

  await step('filters by status and minimum score', async () => {
    await page.getByLabel('Status', { exact: true }).selectOption('SAVED');
    await until('only the saved match to be listed', async () => {
      const t = await titles();
      return t.length === 1 && t[0] === first;
    });
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await until('every match to be back', async () => (await titles()).length > 1);
    const top = Number(await matchItems().first().getAttribute('data-score'));
    await page.getByLabel('Minimum score', { exact: true }).fill(String(top));
    await button('Apply filters').click();
    await until(`only matches scoring ${top} or more`, async () => {
      const scores = await matchItems().evaluateAll((lis) => lis.map((li) => Number(li.dataset.score)));
      return scores.length > 0 && scores.every((s) => s >= top) && (await page.getByText('for these filters').count()) > 0;
    });
    await button('Clear filters').click();
    await until('the filters to be cleared', async () => (await page.getByText('for these filters').count()) === 0 && (await settled()));
  });

  await step('pages through the matches', async () => {
    const next = button('Next page');
    await page.getByLabel('Per page', { exact: true }).selectOption('5');
    await until('pages of five', async () => (await settled()) && (await titles()).length === 5);
    assert.ok((await next.count()) === 1 && !(await next.isDisabled()), 'more than one page of five matches');
    const before = await titles();
    await next.click();
    await until('the next page', async () => {
      const t = await titles();
      return (await settled()) && t.length > 0 && t[0] !== before[0] && !t.includes(before[0]);
    });
    await page.getByText(/page 2 of/).waitFor();
    await shot('matches-page-2');
    await button('Previous page').click();
    await until('the first page again', async () => (await titles())[0] === before[0]);
  });

  await step('opens a match and downloads a tailored resume PDF', async () => {
    await matchItems().first().getByRole('link', { name: first }).click();
    await page.getByRole('heading', { level: 1, name: first }).waitFor();
    await page.getByRole('heading', { name: 'Description' }).waitFor();
    await button('Tailor resume').click();
    const pdf = button('Download PDF');
    await pdf.waitFor({ timeout: T.long });
    await shot('match-detail');
    const [download] = await Promise.all([page.waitForEvent('download'), pdf.click()]);
    const file = await download.path();
    const head = readFileSync(file).subarray(0, 4).toString('latin1');
    assert.equal(head, '%PDF', `the download is a PDF (${download.suggestedFilename()})`);
    console.log(`   downloaded ${download.suggestedFilename()}`);
  });

  // 3. A VALIDATION error on its field.
  await step('a too-short password is flagged on the Password field', async () => {
    await button('Sign out').click();
    await page.goto(`${BASE_URL}/#/signup`);
    await page.getByLabel('Email', { exact: true }).fill(`e2e-short-${rand}@example.com`);
    const password = page.getByLabel('Password', { exact: true });
    await password.fill('short');
    await button('Sign up').click();
    await until('aria-invalid on Password', async () => (await password.getAttribute('aria-invalid')) === 'true');
    const ids = ((await password.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
    const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).innerText()));
    assert.ok(texts.some((t) => /10 characters/.test(t) && /must/i.test(t)), `the message is next to Password: ${JSON.stringify(texts)}`);
    await shot('signup-validation');
  });

  // 4. Phone width.
  await step('fits a 390-px-wide phone', async () => {
    page = await newPage({ width: 390, height: 844 });
    await signIn(USER_EMAIL, USER_PASSWORD);
    await page.goto(`${BASE_URL}/#/matches`);
    await matchesList().waitFor({ timeout: T.long });
    const li = matchItems().first();
    for (const b of [button('Sign out'), button('Save', li), button('Applied', li), button('Dismiss', li), button('Apply filters')]) {
      assert.ok(await b.isVisible(), 'the main buttons are visible');
    }
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scroll on the matches page (scrollWidth ${width})`);
    await shot('phone-matches', false);
    for (const route of ['resume', 'preferences', 'account']) {
      await page.goto(`${BASE_URL}/#/${route}`);
      await page.locator('main h1').waitFor();
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(w <= 390, `no horizontal scroll on #/${route} (scrollWidth ${w})`);
    }
  });

  // 5. The admin's score histogram counts the new user's matches.
  await step('admin sees the distribution of match scores', async () => {
    page = await newPage();
    await signIn(ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.goto(`${BASE_URL}/#/admin/scores`);
    const table = page.getByRole('table', { name: 'Matches per score bucket' });
    await table.waitFor({ timeout: T.long });
    const counts = await table.locator('tbody td').allInnerTexts();
    assert.equal(counts.length, 10, 'ten buckets');
    const total = counts.reduce((n, c) => n + Number(c.replace(/\D/g, '')), 0);
    assert.ok(total > 0, `the histogram counts matches: ${counts.join(', ')}`);
    await page.getByRole('img', { name: /match scores spread/ }).waitFor();
    await shot('admin-scores');
  });

  console.log(`e2e: all passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await browser.close();
  process.exit(0);
} catch (e) {
  console.error(`e2e: FAILED at "${current}": ${e?.message ?? e}`);
  if (problems.length) console.error(problems.join('\n'));
  try {
    await page?.screenshot({ path: join(SCREENSHOT_DIR, 'failure.png'), fullPage: true });
    console.error(`e2e: screenshot at ${join(SCREENSHOT_DIR, 'failure.png')}`);
  } catch {
    /* no page */
  }
  await browser.close().catch(() => {});
  process.exit(1);
}
