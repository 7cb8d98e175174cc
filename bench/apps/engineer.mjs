#!/usr/bin/env node
// The engineer H5 app's speed on an emulated mid-range phone (bench/apps/README.md).
//
//   node bench/apps/engineer.mjs [--runs 3] [--tasks 200]
//                                [--h5 clients/engineer/dist/build/h5] [--no-write]
//
// Builds nothing: serves the H5 build as it is from a test server on a fresh
// SQLite database (tests/apps/serve.py), gives an engineer 200 tasks through
// the API (customers' orders, accepted, a quarter with a visit booked), then,
// for each run, opens the app cold (new browser context: empty cache, no
// service worker, the engineer's session kept) on 主页 in Debian's chromium
// with the CPU slowed down 4x and "Fast 4G" (bench/apps/lib.mjs), and
// measures:
//   - task list usable: from the start of the navigation until the first
//     task card is on screen and no long task (> 50 ms) that started before
//     is still running;
//   - form after tap: from the tap on a task until its step form is shown;
//   - JavaScript on the first load (gzipped as trytond sends it);
//   - photo compression: a 4 MB phone photo (tests/apps/media.py) added to
//     the step form, from its tile showing "compressing" until it is in the
//     outbox (the app's own path: canvas, JPEG ladder, IndexedDB).
// Prints the figures and writes them to bench/apps/RESULTS-engineer.md
// (unless --no-write).
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ROOT, call, customerToken, engineerStep, engineerToken, env, launchBrowser, loginEngineer,
  makeMedia, must, newOrderBody, startServer,
} from '../../clients/engineer/tests/e2e/lib.mjs'
import { PHONE } from '../../clients/customer/tests/e2e/lib.mjs'
import {
  conditions, javascriptLines, machine, ms, publish, row, scriptSizes, slowPhone,
} from './lib.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const AIMS = { list: 1500, form: 500, js: 200 * 1024, compression: 1000 }

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? process.argv[index + 1] : fallback
}

const RUNS = Number(option('runs', 3))
const TASKS = Number(option('tasks', 200))
const H5 = path.resolve(ROOT, option('h5', 'clients/engineer/dist/build/h5'))
const WRITE = !process.argv.includes('--no-write')

// In the page from its first script: when the first task card is shown, the
// long tasks, the last tap, when a step form is shown, and how long a photo
// tile says "compressing"
function instrument() {
  const marks = { longTasks: [] }
  window.__bench = marks
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      marks.longTasks.push([entry.startTime, entry.startTime + entry.duration])
    }
  }).observe({ type: 'longtask', buffered: true })
  const onScreen = (selector) => {
    const element = document.querySelector(selector)
    if (!element) return false
    const box = element.getBoundingClientRect()
    return box.width > 0 && box.height > 0 && box.top < innerHeight
  }
  const check = () => {
    const now = performance.now()
    if (!marks.list && document.body && onScreen('[data-test^="task-"]')) marks.list = now
    if (marks.tap && !marks.form && onScreen('[data-test^="form-"] [data-test^="submit-"]')) marks.form = now
    const compressing = !!document.querySelector('[data-test="file-tile"].is-compressing')
    if (compressing && !marks.compressing) marks.compressing = now
    if (!compressing && marks.compressing && !marks.compressed) marks.compressed = now
  }
  addEventListener('touchstart', () => { if (!marks.tap) marks.tap = performance.now() }, true)
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['class'] })
  const frame = () => { check(); requestAnimationFrame(frame) }
  requestAnimationFrame(frame)
}

/** TASKS tasks of engineer 0: orders of several customers and types,
 * accepted; every fourth with a visit booked (the day's list) */
async function seed() {
  const engineer = await engineerToken(0)
  const types = ['repair', 'maintenance', 'installation', 'validation', 'training', 'recycle', 'rental', 'selection']
  const customers = await Promise.all([1, 2, 3, 4].map((n) => customerToken(`1390000010${n}`)))
  const started = Date.now()
  // Two at a time: the machine has two cores
  const make = async (i) => {
    const order = await must(201, 'POST', '/orders', {
      token: customers[i % customers.length],
      body: newOrderBody(types[i % types.length], { index: i }),
      headers: { 'Idempotency-Key': randomUUID() },
    })
    await must(200, 'POST', `/engineer/inbox/${order.id}/accept`, {
      token: engineer, headers: { 'Idempotency-Key': randomUUID() },
    })
    if (i % 4 === 0) {
      await engineerStep(engineer, order.id, 'visit_onsite', {
        appointment: new Date(Date.now() + (1 + (i % 7)) * 3600e3).toISOString(),
      })
    }
    return order
  }
  const orders = []
  for (let i = 0; i < TASKS; i += 2) {
    orders.push(...await Promise.all([make(i), make(i + 1)].slice(0, Math.min(2, TASKS - i))))
  }
  const { body } = await call('GET', '/engineer/tasks?state=in_progress&page_size=1', { token: engineer })
  console.log(`${orders.length} tasks made in ${((Date.now() - started) / 1000).toFixed(0)} s (the API counts ${body?.total} in progress)`)
  return orders
}

async function measure(browser, storageState, media) {
  const { context, page, responses, navigationAt, firstLoadDone } = await slowPhone(browser, storageState)
  await page.addInitScript(instrument)
  try {
    await page.goto(`${env.server.engineer}#/pages/tasks/index`, { waitUntil: 'commit' })
    await page.waitForFunction(() => window.__bench.list, null, { timeout: 60_000, polling: 100 })
    await page.waitForTimeout(1000) // long tasks of the start may still run
    const start = await page.evaluate(() => {
      const { list, longTasks } = window.__bench
      const busy = longTasks.filter(([begin]) => begin <= list).map(([, end]) => end)
      return { shown: list, usable: Math.max(list, ...busy) }
    })
    firstLoadDone()
    const scripts = [...responses.values()].filter((r) => r.type === 'Script')
    const after = (items) => Math.max(...items.map((r) => (r.finished - navigationAt()) * 1000))
    start.scriptsLoaded = after(scripts)
    start.apiAnswered = after([...responses.values()].filter((r) => /\/api\/v1\/engineer\/tasks\?/.test(r.url)))
    if (process.env.BENCH_DEBUG) {
      for (const r of [...responses.values()].sort((a, b) => a.finished - b.finished)) {
        console.log(`  ${ms((r.finished - navigationAt()) * 1000)} ${r.type} ${r.bytes} ${r.url.replace(env.server.origin, '')}`)
      }
    }
    start.cards = await page.locator('[data-test^="task-"]').count()

    // The first task (a visit booked: its form is the assessment's)
    await page.evaluate(() => { window.__bench.tap = undefined; window.__bench.form = undefined })
    await page.locator('[data-test^="task-"]').first().tap()
    await page.waitForFunction(() => window.__bench.form, null, { timeout: 60_000, polling: 100 })
    const form = await page.evaluate(() => window.__bench.form - window.__bench.tap)

    // A 4 MB photo into the form
    const add = page.locator('[data-test="add-photo"]').first()
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), add.tap()])
    await chooser.setFiles(media.phone_photo)
    await page.waitForFunction(() => window.__bench.compressed, null, { timeout: 60_000, polling: 50 })
    const compression = await page.evaluate(() => window.__bench.compressed - window.__bench.compressing)
    return { ...start, form, compression, scripts }
  } finally {
    await context.close()
  }
}

async function main() {
  if (!existsSync(path.join(H5, 'index.html'))) {
    console.error(`No H5 build in ${H5}: run npm run build:h5 -w engineer in clients/.`)
    process.exit(2)
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-engineer-'))
  env.server = await startServer(H5, { app: 'engineer', engineers: 1 })
  try {
    const [media, browser] = await Promise.all([makeMedia(scratch), launchBrowser()])
    env.browser = browser
    env.media = media
    await seed()
    // Log in once; every run starts with that session and an empty cache
    const context = await env.browser.newContext(PHONE)
    const page = await context.newPage()
    await loginEngineer(page, 0)
    const storageState = await context.storageState()
    await context.close()

    const runs = []
    for (let i = 0; i < RUNS; i += 1) {
      const run = await measure(env.browser, storageState, media)
      runs.push(run)
      console.log(`run ${i + 1}: list shown ${ms(run.shown)}, usable ${ms(run.usable)} (${run.cards} cards; `
        + `scripts loaded at ${ms(run.scriptsLoaded)}, tasks answered at ${ms(run.apiAnswered)}); `
        + `form ${ms(run.form)} after the tap; 4 MB photo compressed in ${ms(run.compression)}`)
    }
    report(runs, scriptSizes(runs[0].scripts, H5, '/engineer/'))
  } finally {
    await env.browser?.close()
    await env.server.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
}

function report(runs, js) {
  const of = (name) => runs.map((r) => r[name])
  const lines = [
    '# Engineer app (H5): speed on an emulated mid-range phone',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`make bench-apps\` `
      + `(bench/apps/engineer.mjs; how: [README.md](README.md)), ${runs.length} cold loads.`,
    '',
    'Machine: ' + machine().join('; '),
    '',
    `Conditions: ${conditions()}; empty cache, no service worker yet, engineer logged in; `
      + `the API and the app served by trytond (test server, SQLite, ${TASKS} tasks of the engineer).`,
    '',
    '| figure | median | range | aim |',
    '|---|---|---|---|',
    row('task list (主页) usable, from navigation start', of('usable'), AIMS.list),
    row('task list first shown', of('shown')),
    row('… the first load\'s scripts all arrived', of('scriptsLoaded')),
    row('… its task list answers arrived', of('apiAnswered')),
    row('task form shown, after the tap', of('form'), AIMS.form),
    row('4 MB photo compressed (tile "compressing" shown until in the outbox)', of('compression'), AIMS.compression),
    ...javascriptLines(js, AIMS.js),
  ]
  publish(lines, path.join(HERE, 'RESULTS-engineer.md'), WRITE)
}

await main()
