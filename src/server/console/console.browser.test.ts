/**
 * The console in a real browser: Debian's chromium driven by playwright-core against
 * `hataraku serve` (a real process, a real key, a scripted model). Sign in (a wrong key first),
 * watch a run progress live, open a step, approve the waiting call and see the run finish, a
 * second decision on it refused with a message, an unknown run, the cost charts; hostile run
 * output stays text; axe-core finds no serious or critical violation on any page.
 *
 * Skips where /usr/bin/chromium (or HATARAKU_CHROMIUM) is missing, unless
 * HATARAKU_REQUIRE_CHROMIUM=1 (CI), where it must run. With HATARAKU_CONSOLE_SCREENSHOTS=1 it
 * writes the screenshots of docs/console/.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCli, startServeProcess } from '../../cli/__fixtures__/serve-process.js';

const chromiumPath = process.env.HATARAKU_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.HATARAKU_REQUIRE_CHROMIUM === '1') {
  throw new Error(`HATARAKU_REQUIRE_CHROMIUM=1 but there is no chromium at ${chromiumPath}: apt-get install chromium`);
}
const screenshots = process.env.HATARAKU_CONSOLE_SCREENSHOTS === '1';
const screenshotFolder = fileURLToPath(new URL('../../../docs/console/', import.meta.url));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>';

let child: ChildProcess | undefined;
let browser: Browser | undefined;
let url = '';
let secret = '';
let cwd = '';

function hataraku(...args: string[]) {
  return spawnSync(process.execPath, [builtCli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

async function startRun(input: string): Promise<string> {
  const response = await fetch(`${url}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'payer', input }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

/** axe-core in the page: no serious or critical violation. */
async function expectAccessible(page: Page, name: string) {
  await page.addScriptTag({ content: axeSource }).catch(async () => {
    // The page's policy refuses inline script; evaluate it instead (CDP is not bound by it).
    await page.evaluate(axeSource);
  });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: unknown[] }> }> };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      count: violation.nodes.length,
    }));
  });
  const severe = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect(severe, `${name}: ${JSON.stringify(severe)}`).toEqual([]);
}

async function shoot(page: Page, name: string) {
  if (!screenshots) return;
  mkdirSync(screenshotFolder, { recursive: true });
  await page.screenshot({ path: join(screenshotFolder, `${name}.png`), fullPage: true });
}

const title = hasChromium
  ? 'the console in chromium'
  : `the console in chromium (skipped: no chromium at ${chromiumPath}; apt-get install chromium, or set HATARAKU_CHROMIUM)`;

describe.skipIf(!hasChromium)(title, () => {
  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'hataraku-console-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        prices: { 'scripted:pay.json': { inputPerMillion: 1000, outputPerMillion: 2000 } },
        policies: [{ tool: 'files.write', action: 'ask', reason: 'payments need a sign-off' }],
        agents: { payer: { model: 'scripted:pay.json', tools: ['files.write'], instructions: 'Pay invoices.' } },
      }),
    );
    writeFileSync(
      join(cwd, 'pay.json'),
      JSON.stringify({
        version: 1,
        turns: [
          {
            delayMs: 1500,
            toolCalls: [
              { name: 'files.write', arguments: { path: 'payment.txt', content: `paid 250 to ACME ${hostile}` } },
            ],
            usage: { inputTokens: 100, outputTokens: 10 },
          },
          { delayMs: 300, text: `Payment recorded. ${hostile}`, usage: { inputTokens: 200, outputTokens: 20 } },
        ],
      }),
    );
    const created = hataraku('keys', 'create', 'ops-bot', '--tenant', 'acme', '--budget-day', '5', '--json');
    expect(created.stderr).toBe('');
    secret = (JSON.parse(created.stdout) as { secret: string }).secret;
    const serve = await startServeProcess(cwd, { timeoutMs: 20_000 });
    child = serve.child;
    url = serve.url;
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    child?.kill('SIGKILL');
  });

  it('signs in, follows a run live, approves its call, refuses a second decision, and shows costs', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const scriptSizes: number[] = [];
    page.on('response', async (response) => {
      if (response.request().resourceType() === 'script') scriptSizes.push((await response.body()).length);
    });

    // A wrong key: a clear message on the sign-in page, no session.
    await page.goto(`${url}/`);
    await expect(page.getByRole('heading', { name: 'Hataraku console' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'sign-in');
    await shoot(page, 'sign-in');
    await page.getByLabel('API key').fill('hk_0000000000000000_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/not valid or was revoked/);

    // The right key: the cookie is http-only, SameSite=Strict, and the key is nowhere in the page's storage.
    await page.getByLabel('API key').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'hataraku_session', httpOnly: true, sameSite: 'Strict', secure: true });
    expect(cookies[0]?.value).not.toContain(secret);
    expect(
      await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })),
    ).not.toContain('hk_');
    expect(await page.content()).not.toContain(secret);

    // The list updates live: a run started elsewhere appears, then waits for its approval.
    const runId = await startRun(`Pay invoice 17 ${hostile}`);
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.getByText('waiting').waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('payer');
    await expectAccessible(page, 'runs');
    await shoot(page, 'runs');

    // Filters and search: by text, and a status that matches nothing. Filters apply in place:
    // the table is busy until the answer for them is shown, and the address keeps them.
    const table = page.getByRole('table');
    await page.getByLabel('Search').fill('invoice 17');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('table[aria-busy="false"]').waitFor();
    expect(new URL(page.url()).hash).toBe('#/runs?q=invoice+17');
    expect(await table.locator(`tr[data-run="${runId}"]`).count()).toBe(1);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('table[aria-busy="false"]').waitFor();
    expect(new URL(page.url()).hash).toBe('#/runs?q=invoice+17&status=failed');
    await table.getByText('No runs match.').waitFor();
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
    // Back: the previous filters, and their run, again.
    await page.goBack();
    await table.locator(`tr[data-run="${runId}"]`).waitFor();
    expect(await page.getByLabel('Status').inputValue()).toBe('');
    expect(await page.getByLabel('Search').inputValue()).toBe('invoice 17');

    // A second tab opens the approvals inbox before the decision.
    const inbox = await context.newPage();
    await inbox.goto(`${url}/#/approvals`);
    const waiting = inbox.locator(`[data-approval="${runId}:1"]`);
    await waiting.waitFor();
    expect(await waiting.textContent()).toContain('payment.txt');
    expect(await waiting.textContent()).toContain('payments need a sign-off');
    await expectAccessible(inbox, 'approvals');
    await shoot(inbox, 'approvals');

    // The run page: the timeline from the live stream; a step opens to show tokens, cost and latency.
    await page.goto(`${url}/#/runs/${runId}`);
    await page.locator('[data-step="0"]').waitFor();
    await page.locator('[data-step="0"] summary').click();
    const modelStep = await page.locator('[data-step="0"]').textContent();
    expect(modelStep).toMatch(/100 in \/ 10 out tokens/);
    expect(modelStep).toMatch(/Routing:/);
    await page.getByText(/^Live: \d+ events/).waitFor();
    await expectAccessible(page, 'run');
    await shoot(page, 'run-waiting');

    // Approve with a note: the run finishes on the page.
    await page.getByLabel('Note for step 1').fill('invoice checked');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('.status-completed').first().waitFor({ timeout: 15_000 });
    await page
      .locator('[data-final]')
      .getByText(/Payment recorded\./)
      .waitFor();
    await page.locator('[data-step="1"] summary').click();
    expect(await page.locator('[data-step="1"]').textContent()).toContain('paid 250 to ACME');
    // Hostile output stays text: shown literally, never run.
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.getByText('<script>window.pwned=1</script>').count()).toBeGreaterThan(0);
    await shoot(page, 'run-completed');

    // The decision is audited with the key's name.
    const audit = hataraku('runs', 'show', runId);
    expect(audit.stdout).toMatch(/key:ops-bot/);

    // The same call decided again from the stale inbox tab: a clear message.
    await inbox.getByRole('button', { name: 'Approve' }).click();
    await inbox.getByText(/Already decided: approved by key:ops-bot/).waitFor();
    expect(await inbox.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

    // An unknown run: a message, not a blank page.
    await page.goto(`${url}/#/runs/no-such-run`);
    await page.getByRole('heading', { name: 'Run not found' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/no run with id no-such-run/);

    // Costs: charts by model, agent and tenant; the budget; cost per completed run; top runs.
    await page.goto(`${url}/#/costs`);
    for (const by of ['model', 'agent', 'tenant'])
      await page.locator(`[data-chart="${by}"] svg rect`).first().waitFor();
    expect(await page.locator('[data-chart="agent"]').textContent()).toContain('payer');
    expect(await page.locator('[data-stat="cost-per-completed-run"]').textContent()).toBe('$0.3600');
    expect(await page.locator('[data-budget="day"]').textContent()).toMatch(/\$0\.3600 of \$5\.0000/);
    await expectAccessible(page, 'costs');
    await shoot(page, 'costs');

    // Cancel a waiting run from its page.
    const second = await startRun('Pay invoice 18');
    await page.goto(`${url}/#/runs/${second}`);
    await page.locator(`[data-approval="${second}:1"]`).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.status-stopped').waitFor();
    expect(await page.locator('main').textContent()).toContain('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

    // Fast: the whole console is one script, far under 100 KB.
    expect(scriptSizes.length).toBeGreaterThan(0);
    expect(Math.max(...scriptSizes)).toBeLessThan(100_000);

    // On a phone.
    const phone = await browser!.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.addCookies(cookies);
    const phonePage = await phone.newPage();
    await phonePage.goto(`${url}/#/runs`);
    await phonePage.locator(`tr[data-run="${runId}"]`).waitFor();
    await expectAccessible(phonePage, 'runs on a phone');
    await shoot(phonePage, 'runs-phone');
    await phone.close();

    // Signing out ends the session: the API refuses the cookie afterwards.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    const after = await fetch(`${url}/runs`, { headers: { cookie: `hataraku_session=${cookies[0]?.value}` } });
    expect(after.status).toBe(401);
    await context.close();
  }, 120_000);
});
