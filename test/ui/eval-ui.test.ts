import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evalEnv, writeDataset } from '../eval/fixtures.js'
import { runBerth } from '../helpers/berth-process.js'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { ensureWebBuild, launchChromium, screenshot } from './browser.js'

let llm: ScriptedLlm
let t: TestServer
let browser: Browser
let page: Page
let data = ''

beforeAll(async () => {
  const [, root, launched, scripted] = await Promise.all([
    ensureWebBuild(),
    mkdtemp(join(tmpdir(), 'berth-eval-ui-')),
    launchChromium(),
    startScriptedOpenAi(),
  ])
  browser = launched
  llm = scripted
  data = await writeDataset(join(root, 'gaia-data'), [
    { task_id: 'sum', Question: 'What is two plus two?', Level: 1, 'Final answer': '4' },
    { task_id: 'color', Question: 'Which color is the sky at noon?', Level: 2, 'Final answer': 'blue' },
    { task_id: 'nine', Question: 'What is three times three?', Level: 1, 'Final answer': '9' },
  ])
  // A run made by the CLI on the same data root before the server starts: the page must list it too.
  llm.enqueue({ text: 'FINAL ANSWER: 4' })
  const cli = await runBerth(['eval', 'gaia', '--data', data, '--run-name', 'from-cli', '--end', '1'], {
    cwd: root,
    env: evalEnv(root, llm.url),
  })
  expect(cli.code, cli.stderr).toBe(0)
  t = await startTestServer(root, { llm, env: { BERTH_GAIA_DATA: data } })
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  context.setDefaultTimeout(15_000)
  page = await context.newPage()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await t?.stop()
  await llm?.close()
  if (t) await rm(t.root, { recursive: true, force: true })
})

describe('GAIA page in a real browser', () => {
  it('starts a run, shows tasks as they start and end, the accuracy per level, and opens a task replay', async () => {
    llm.enqueue(
      { text: 'Two plus two.\nFINAL ANSWER: 4' },
      // Slow enough that the page shows the task running before it ends.
      { delayMs: 2500, text: 'FINAL ANSWER: red' },
      { text: 'FINAL ANSWER: 9' },
    )
    await page.goto(`${t.server.url}/`)
    await page.getByRole('link', { name: 'GAIA' }).click()
    await page.getByRole('heading', { name: 'Start a run' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/eval')
    // The CLI's run is listed, finished.
    const cliRow = page.locator('tr[data-run="from-cli"]')
    await cliRow.waitFor()
    expect(await cliRow.locator('[data-status]').getAttribute('data-status')).toBe('finished')

    await page.getByLabel('Name').fill('uitest')
    await page.getByLabel('Tasks').fill('3')
    await page.getByLabel('At once').fill('1')
    expect(await page.getByRole('combobox', { name: 'Model' }).count()).toBe(1)
    await page.getByRole('button', { name: 'Start run' }).click()
    await page.waitForURL(/\/eval\/uitest-[0-9a-f]{8}$/)
    const runName = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '')

    const detail = page.locator(`[data-run-detail="${runName}"]`)
    // The first task has ended while the second is still running: rows appear as tasks start.
    await detail.locator('tr[data-task="color"][data-status="running"]').waitFor()
    expect(await detail.locator('tr[data-task="sum"]').getAttribute('data-status')).toBe('completed')
    expect(await detail.locator('tr[data-task="nine"]').count()).toBe(0)
    expect(await detail.getByRole('button', { name: 'Stop' }).count()).toBe(1)
    await screenshot(page, 'eval-1-running')

    await detail.locator('.eval-status[data-status="finished"]').waitFor({ timeout: 20_000 })
    expect(await detail.locator('tr[data-task]').count()).toBe(3)
    expect(await detail.locator('tr[data-task="color"] .verdict').textContent()).toContain('wrong')
    expect(await detail.locator('tr[data-task="nine"] .verdict').textContent()).toContain('correct')
    const chart = detail.locator('svg.level-chart')
    expect(await chart.getAttribute('aria-label')).toBe('Level 1: 100.0%, Level 2: 0.0%, All: 66.7%')
    expect(await chart.locator('[data-level="Level 1"] .level-value').textContent()).toBe('100.0% (2/2)')
    expect(await chart.locator('[data-level="All"] .level-value').textContent()).toBe('66.7% (2/3)')
    // The bars are drawn to scale: level 1 full, level 2 empty.
    const width = (level: string) => chart.locator(`[data-level="${level}"] .level-bar`).getAttribute('width')
    expect([await width('Level 1'), await width('Level 2')]).toEqual(['260', '0'])
    await screenshot(page, 'eval-2-finished')

    await detail.getByRole('button', { name: 'Replay task color' }).click()
    await page.waitForURL(/\/share\/[A-Za-z0-9_-]{32}$/)
    await page.getByText('Read-only').waitFor()
    await page
      .locator('.msg-user')
      .getByText(/Which color is the sky at noon\?/)
      .waitFor()
    await page.getByText('FINAL ANSWER: red').waitFor({ timeout: 20_000 })
    await screenshot(page, 'eval-3-replay')

    // A direct load of the run's address shows the same run.
    await page.goto(`${t.server.url}/eval/${runName}`)
    await page.locator(`[data-run-detail="${runName}"] tr[data-task]`).nth(2).waitFor()
  })
})
