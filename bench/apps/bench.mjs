#!/usr/bin/env node
// The customer H5 app's speed on an emulated mid-range phone (bench/apps/README.md).
//
//   node bench/apps/bench.mjs [--runs 5] [--h5 clients/customer/dist/build/h5]
//                             [--no-write]
//
// Builds nothing: serves the H5 build as it is (make apps) from a test server
// on a fresh SQLite database (tests/apps/serve.py), gives a customer orders
// at several steps through the API, then, for each run, opens the app cold
// (new browser context: empty cache, the customer's session kept) in
// Debian's chromium with the CPU slowed down 4x and "Fast 4G" (DevTools'
// preset), and measures:
//   - grid usable: from the start of the navigation until the eight services
//     are on screen and no long task (> 50 ms) that started before is still
//     running;
//   - detail after tap: from the tap on an order of "my orders" until its
//     detail (the steps) is on screen;
//   - JavaScript on the first load: bytes on the wire (the responses'
//     encoded size) and, when the server does not compress them, what
//     gzip -9 makes of the same files.
// Prints the figures with the machine's description and writes them to
// bench/apps/RESULTS.md (unless --no-write).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  conditions, javascriptLines, machine, ms, publish, row, scriptSizes, slowPhone,
} from './lib.mjs'
import {
  PHONE, ROOT, SERVICES, checkIn, engineerStep, engineerToken, customerToken, env, launchBrowser,
  loginInBrowser, makeMedia, must, newOrderBody, openOrders, startServer, upload,
} from '../../clients/customer/tests/e2e/lib.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const AIMS = { grid: 1500, detail: 1000, js: 200 * 1024 }

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? process.argv[index + 1] : fallback
}

const RUNS = Number(option('runs', 5))
const H5 = path.resolve(ROOT, option('h5', 'clients/customer/dist/build/h5'))
const WRITE = !process.argv.includes('--no-write')

// In the page from its first script: when the grid is shown, the long tasks,
// the last tap and when the detail of an order is shown
function instrument({ services, detailMarker }) {
  const marks = { longTasks: [] }
  window.__bench = marks
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      marks.longTasks.push([entry.startTime, entry.startTime + entry.duration])
    }
  }).observe({ type: 'longtask', buffered: true })
  const shown = (text) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.data.includes(text) && node.parentElement?.getClientRects().length) {
        const box = node.parentElement.getBoundingClientRect()
        if (box.width && box.height && box.top < innerHeight) return true
      }
    }
    return false
  }
  const check = () => {
    const now = performance.now()
    if (!marks.grid && document.body && services.every(shown)) marks.grid = now
    if (marks.tap && !marks.detail && window.__detailMarker && shown(window.__detailMarker)) {
      marks.detail = now
    }
  }
  addEventListener('touchstart', () => { if (!marks.tap) marks.tap = performance.now() }, true)
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true })
  // Text laid out after the last mutation (fonts, styles) is seen by the next frames
  const frame = () => { check(); requestAnimationFrame(frame) }
  requestAnimationFrame(frame)
}

async function seed(server, media) {
  const phone = '13900000001'
  const customer = await customerToken(phone)
  const engineer = await engineerToken(0)
  const orders = []
  for (let i = 0; i < 12; i += 1) {
    const type = SERVICES[i % SERVICES.length].code
    const photo = await upload('/files', media.photo, customer)
    orders.push(await must(201, 'POST', '/orders', {
      token: customer,
      body: newOrderBody(type, { files: [photo.id], index: i }),
      headers: { 'Idempotency-Key': crypto.randomUUID() },
    }))
  }
  // The first orders move on, as the demo's do: accepted, visited,
  // assessed with a photo, quoted
  const steps = [
    ['visit_onsite', () => ({ appointment: new Date(Date.now() + 3 * 86400e3).toISOString() })],
    ['submit_assessment', async (id) => ({
      description: '评估：泵密封圈老化，需要更换',
      photos: [(await upload(`/engineer/tasks/${id}/files`, media.photo, engineer)).id],
      check_in: checkIn(),
    })],
    ['submit_quote', () => ({ description: '更换泵密封圈', amount: '1000.00' })],
  ]
  for (const [index, order] of orders.slice(0, 6).entries()) {
    await must(200, 'POST', `/engineer/inbox/${order.id}/accept`, {
      token: engineer, headers: { 'Idempotency-Key': crypto.randomUUID() },
    })
    for (const [action, values] of steps.slice(0, index % 4)) {
      await engineerStep(engineer, order.id, action, await values(order.id))
    }
  }
  // The order tapped: the first with three steps done
  const tapped = await must(200, 'GET', `/orders/${orders[3].id}`, { token: customer })
  return { phone, tapped }
}


async function measure(browser, storageState, tapped) {
  const { context, page, responses, navigationAt, firstLoadDone } = await slowPhone(browser, storageState)
  await page.addInitScript(instrument, { services: SERVICES.map((s) => s.name) })
  try {
    await page.goto(env.server.h5, { waitUntil: 'commit' })
    await page.waitForFunction(() => window.__bench.grid, null, { timeout: 60_000, polling: 100 })
    // Long tasks of the start may still be running: give them time to end
    await page.waitForTimeout(1000)
    const start = await page.evaluate(() => {
      const { grid, longTasks } = window.__bench
      const busy = longTasks.filter(([begin]) => begin <= grid).map(([, end]) => end)
      return { grid, usable: Math.max(grid, ...busy) }
    })
    firstLoadDone()
    const scripts = [...responses.values()].filter((r) => r.type === 'Script')
    const after = (items) => Math.max(...items.map((r) => (r.finished - navigationAt()) * 1000))
    start.scriptsLoaded = after(scripts)
    start.apiAnswered = after([...responses.values()].filter((r) => r.url.includes('/api/v1/')))

    await openOrders(page)
    const item = page.locator(`[data-test="order-${tapped.number}"]`)
    await item.waitFor({ timeout: 60_000 })
    await page.evaluate((marker) => {
      window.__detailMarker = marker
      window.__bench.tap = undefined
      window.__bench.detail = undefined
    }, tapped.progress.steps.find((s) => s.code === tapped.progress.current_step).hint.split('\n')[0])
    await item.tap()
    await page.waitForFunction(() => window.__bench.detail, null, { timeout: 60_000, polling: 100 })
    const detail = await page.evaluate(() => window.__bench.detail - window.__bench.tap)
    return { ...start, detail, scripts }
  } finally {
    await context.close()
  }
}




async function main() {
  if (!existsSync(path.join(H5, 'index.html'))) {
    console.error(`No H5 build in ${H5}: run make apps (or npm run build:h5 -w customer in clients/).`)
    process.exit(2)
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-apps-'))
  env.server = await startServer(H5, { engineers: 1 })
  try {
    env.browser = await launchBrowser()
    const media = await makeMedia(scratch)
    const { phone, tapped } = await seed(env.server, media)
    // Log in once; every run starts with that session and an empty cache
    const context = await env.browser.newContext(PHONE)
    const page = await context.newPage()
    await loginInBrowser(page, phone)
    const storageState = await context.storageState()
    await context.close()

    const runs = []
    for (let i = 0; i < RUNS; i += 1) {
      const run = await measure(env.browser, storageState, tapped)
      runs.push(run)
      console.log(`run ${i + 1}: grid shown ${ms(run.grid)}, usable ${ms(run.usable)}, `
        + `detail ${ms(run.detail)} after the tap (scripts loaded at ${ms(run.scriptsLoaded)}, `
        + `API answered at ${ms(run.apiAnswered)})`)
    }
    const js = scriptSizes(runs[0].scripts, H5, '/h5/')
    const figures = {
      usable: runs.map((r) => r.usable),
      grid: runs.map((r) => r.grid),
      detail: runs.map((r) => r.detail),
      scriptsLoaded: runs.map((r) => r.scriptsLoaded),
      apiAnswered: runs.map((r) => r.apiAnswered),
    }
    report(figures, js)
  } finally {
    await env.browser?.close()
    await env.server.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
}

function report(figures, js) {
  const lines = [
    '# Customer app (H5): speed on an emulated mid-range phone',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`make bench-apps\` `
      + `(bench/apps/bench.mjs; how: [README.md](README.md)), ${figures.grid.length} cold loads.`,
    '',
    'Machine: ' + machine().join('; '),
    '',
    `Conditions: ${conditions()}; empty cache, customer logged in; `
      + 'the API and the app served by trytond (test server, SQLite, 12 orders).',
    '',
    '| figure | median | range | aim |',
    '|---|---|---|---|',
    row('service grid usable (from navigation start)', figures.usable, AIMS.grid),
    row('service grid first shown', figures.grid),
    row('… the first load\'s scripts all arrived', figures.scriptsLoaded),
    row('… its API answers (/config, /order-types) arrived', figures.apiAnswered),
    row('order detail shown, after the tap', figures.detail, AIMS.detail),
    ...javascriptLines(js, AIMS.js),
  ]
  publish(lines, path.join(HERE, 'RESULTS.md'), WRITE)
}

await main()
