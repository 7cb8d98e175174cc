// What the browser tests of the customer H5 app (harness.mjs sets it up) and
// the app's benchmark (bench/apps/) use: the H5 build, a real trytond on a
// fresh SQLite database (tests/apps/serve.py, the API test server) serving it
// at /h5/, the files to attach (tests/apps/media.py), Debian's chromium
// through playwright-core with phone-sized pages.
// Helpers call the API as the customer or an engineer, read the one-time
// codes of the development login from the server log, and keep screenshots
// in test-output/customer/. No test hook unless suite() is called: see
// harness.mjs. The engineer app's browser tests import these helpers too
// (clients/engineer/tests/e2e/lib.mjs).
import assert from 'node:assert/strict'
import { spawn, execFile } from 'node:child_process'
import { createInterface } from 'node:readline'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { chromium } from 'playwright-core'

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
export const CLIENTS = path.join(ROOT, 'clients')
export const OUTPUT = path.join(ROOT, 'test-output', 'customer')
const PYTHON = process.env.PYTHON
  || (existsSync(path.join(ROOT, '.venv/bin/python')) ? path.join(ROOT, '.venv/bin/python') : 'python3')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'

/** What is set up: { h5Dir, server, media, browser }; output: where shoot()
 * keeps screenshots (OUTPUT unless set: another app's tests set theirs) */
export const env = {}
const run = promisify(execFile)

/** A mid-range phone: what the app is made for */
export const PHONE = {
  viewport: { width: 375, height: 812 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
  userAgent: 'Mozilla/5.0 (Linux; Android 13; V2309A) AppleWebKit/537.36 '
    + '(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
}

export const BROWSER_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu',
  '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run']

// ---- set-up ----------------------------------------------------------------

/** Build the H5 app of the workspace app (customer, engineer) into outDir */
export async function buildH5(outDir, app = 'customer') {
  await run('npm', ['run', 'build:h5', '-w', app, '--', '--outDir', outDir],
    { cwd: CLIENTS, maxBuffer: 64 * 1024 * 1024 })
  assert.ok(existsSync(path.join(outDir, 'index.html')), 'the H5 build has no index.html')
  return outDir
}

/**
 * Start tests/apps/serve.py: a trytond on a fresh SQLite database serving
 * h5Dir at /h5/ (app 'customer') or at /engineer/ (app 'engineer').
 * Resolves to its description ({origin, api, h5, engineer, log, people})
 * with stop(), which rejects when the server logged a traceback (a 500).
 */
export function startServer(h5Dir, { engineers = 2, app = 'customer' } = {}) {
  const child = spawn(PYTHON, [path.join(ROOT, 'tests/apps/serve.py'),
    `--${app}-app`, h5Dir, '--engineers', String(engineers)],
  { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', (line) => {
      const server = JSON.parse(line)
      server.stop = async () => {
        child.stdin.end()
        const code = await exited
        if (code !== 0) throw new Error(`the test server exited with ${code}:\n${stderr}`)
      }
      resolve(server)
    })
    exited.then((code) => reject(new Error(`the test server stopped (${code}):\n${stderr}`)))
  })
}

export async function makeMedia(folder) {
  const { stdout } = await run(PYTHON, [path.join(ROOT, 'tests/apps/media.py'), folder])
  return JSON.parse(stdout)
}

export { chromium }

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS })
}

/** A new phone (browser context) and its page, with its console errors kept */
export async function newPhone(options = {}) {
  const context = await env.browser.newContext({ ...PHONE, ...options })
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  page.errors = []
  page.on('pageerror', (error) => page.errors.push(String(error)))
  return { context, page }
}

/**
 * Set up, once per test process, what the browser tests of an app share
 * (env): the H5 build of app (built into a scratch folder, or the folder
 * h5Dir names), a test server serving it, the files to attach and the
 * browser; stop them after the tests. Screenshots go to output.
 */
export function suite({ app, h5Dir, output = OUTPUT, engineers = 2 }) {
  let scratch
  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), `${app}-e2e-`))
    mkdirSync(output, { recursive: true })
    env.output = output
    env.h5Dir = h5Dir || await buildH5(path.join(scratch, 'h5'), app)
    const [server, media, browser] = await Promise.all([
      startServer(env.h5Dir, { app, engineers }),
      makeMedia(path.join(scratch, 'media')),
      launchBrowser(),
    ])
    Object.assign(env, { server, media, browser })
  }, { timeout: 600_000 })

  after(async () => {
    try {
      await env.browser?.close()
    } finally {
      try {
        await env.server?.stop()
      } finally {
        if (scratch) rmSync(scratch, { recursive: true, force: true })
      }
    }
  }, { timeout: 120_000 })
}

// ---- the API ---------------------------------------------------------------

/** Call the API; answers {status, body, headers} (body decoded from JSON) */
export async function call(method, apiPath, { body, token, headers = {} } = {}) {
  const url = apiPath.startsWith('/api/') ? env.server.origin + apiPath : env.server.api + apiPath
  const response = await fetch(url, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null }
}

/** Call the API and insist on the status; answers the body */
export async function must(status, method, apiPath, options) {
  const answer = await call(method, apiPath, options)
  assert.equal(answer.status, status, `${method} ${apiPath}: ${JSON.stringify(answer.body)}`)
  return answer.body
}

/** Upload a file of the disk as the apps do (multipart, field "file") */
export async function upload(apiPath, filePath, token) {
  const form = new FormData()
  form.append('file', new Blob([await readFile(filePath)]), path.basename(filePath))
  const response = await fetch(env.server.api + apiPath, {
    method: 'POST', body: form, headers: { Authorization: `Bearer ${token}` },
  })
  const body = await response.json()
  assert.equal(response.status, 201, JSON.stringify(body))
  return body
}

/** The codes of the development login the server logged for phone, in order */
export function devCodes(phone) {
  const log = readFileSync(env.server.log, 'utf8')
  const pattern = new RegExp(`development login code for ${phone}: (\\d{6})`, 'g')
  return [...log.matchAll(pattern)].map((match) => match[1])
}

/** Wait for a new code for phone (the server logged `before` codes before) */
export async function nextDevCode(phone, before, timeout = 10_000) {
  const deadline = Date.now() + timeout
  for (;;) {
    const codes = devCodes(phone)
    if (codes.length > before) return codes.at(-1)
    if (Date.now() > deadline) throw new Error(`no development login code for ${phone} in the log`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A customer's token through the development login (as the H5 app gets one) */
export async function customerToken(phone) {
  const before = devCodes(phone).length
  await must(204, 'POST', '/auth/dev/code', { body: { phone } })
  const code = await nextDevCode(phone, before)
  return (await must(200, 'POST', '/auth/dev/login', { body: { phone, code } })).token
}

/** The token of the test server's engineer number index */
export async function engineerToken(index = 0) {
  const { login, password } = env.server.people.engineers[index]
  return (await must(200, 'POST', '/auth/login', { body: { login, password } })).token
}

/** An engineer's step on a task, as the engineer app sends it */
export function engineerStep(token, orderId, action, values = {}) {
  return must(200, 'POST', `/engineer/tasks/${orderId}/steps`, {
    token, body: { action, ...values }, headers: { 'Idempotency-Key': randomUUID() },
  })
}

/** A phone number of its own for each test customer: 139 + 8 digits */
let phones = 0
export function newPhoneNumber() {
  phones += 1
  return `139${String(process.pid % 10000).padStart(4, '0')}${String(phones).padStart(4, '0')}`
}

// ---- the page ----------------------------------------------------------------

/**
 * Keep a screenshot of the page as the phone shows it (375x812) in
 * test-output/customer/NAME.png (env.output when set); with scroll, the rest
 * of a long page too, scrolled a screen at a time (NAME-2.png, ...)
 */
export async function shoot(page, name, { scroll = false } = {}) {
  const output = env.output ?? OUTPUT
  if (scroll) await page.evaluate(() => window.scrollTo(0, 0))
  await page.waitForTimeout(300) // transitions and toasts settle
  await page.screenshot({ path: path.join(output, `${name}.png`) })
  if (!scroll) return
  const { height, screen } = await page.evaluate(() => ({
    height: document.documentElement.scrollHeight, screen: innerHeight,
  }))
  // Overlap the screens by the navigation bar and a fixed bottom bar
  const step = screen - 160
  for (let y = step, n = 2; y - step + screen < height; y += step, n += 1) {
    await page.evaluate((top) => window.scrollTo(0, top), y)
    await page.waitForTimeout(200)
    await page.screenshot({ path: path.join(output, `${name}-${n}.png`) })
  }
  await page.evaluate(() => window.scrollTo(0, 0))
}

// What shows that something is loading: uni's loading toast, wot-design-uni's
// loading spinners, toasts and buttons
const SPINNERS = '.uni-loading, .wd-loading, .wd-toast__loading, .wd-button.is-loading'

/** No spinner is visible (within timeout): nothing stuck loading */
export async function assertNoSpinner(page, timeout = 15_000) {
  const spinners = page.locator(SPINNERS).locator('visible=true')
  const deadline = Date.now() + timeout
  while (await spinners.count()) {
    if (Date.now() > deadline) {
      await shoot(page, `stuck-spinner-${Date.now()}`)
      assert.fail(`a spinner is still shown after ${timeout / 1000} s`)
    }
    await page.waitForTimeout(200)
  }
}

// ---- orders ----------------------------------------------------------------

/** The eight services as GET /order-types names them, in the grid's order */
export const SERVICES = [
  { code: 'repair', name: '仪器维修', noun: '维修' },
  { code: 'maintenance', name: '仪器保养', noun: '保养' },
  { code: 'recycle', name: '仪器回收', noun: '回收' },
  { code: 'rental', name: '仪器租赁', noun: '租赁' },
  { code: 'training', name: '培训预约', noun: '培训' },
  { code: 'validation', name: '仪器验证', noun: '验证' },
  { code: 'selection', name: '仪器选型', noun: '选型' },
  { code: 'installation', name: '仪器安装', noun: '安装' },
]

export const CONTACT = {
  name: '刘洋',
  company: '上海联科生物科技有限公司',
  department: '质量控制部',
  position: 'QC主管',
  phone: '13901760231',
  address: '上海市浦东新区张江高科技园区蔡伦路88号3号楼',
  email: 'liuyang@lianke-bio.example.com',
}

/** An engineer's on-site check-in, as the engineer app records one */
export function checkIn() {
  return {
    time: new Date().toISOString(), latitude: 31.2035, longitude: 121.5914,
    accuracy: 12.5, address: '上海市浦东新区张江路100号',
  }
}

/** The body of POST /orders for an order of type, as the app sends one */
export function newOrderBody(type, { files = [], index = 0, contact = CONTACT } = {}) {
  const line = type === 'selection'
    ? { instrument_name: '检测水中重金属', requirement: '需要检出限低于1ppb' }
    : { instrument_name: '液相色谱仪', category: '色谱', brand: 'Agilent', model: `126${index % 10}` }
  if (type === 'repair' || type === 'maintenance') line.fault_description = '泵压力波动，基线噪音大'
  if (type === 'training') line.appointment_time = '2031-06-01T09:30:00+08:00'
  if (type === 'validation') line.validation_categories = ['iq', 'oq']
  if (type !== 'training') line.quantity = 1 + (index % 3)
  if (files.length && !['training', 'selection'].includes(type)) line.files = files
  return { type, contact, lines: [line] }
}

// ---- acting as a person on the phone --------------------------------------------

/** The element of a data-test hook of the app */
export function hook(page, name) {
  return page.locator(`[data-test="${name}"]`)
}

/** A button (uni-button, wot-design-uni's wd-button) by its text */
export function button(scope, text) {
  return scope.locator('uni-button').filter({ hasText: text }).first()
}

// A quick typist's pace. Keys sent without a pause (0 ms) lose characters:
// wot-design-uni's wd-input on H5 then passes on the value before uni's input
// has taken the last key, though the field shows it
const KEY_DELAY = 50

/** Tap the input (or text area) inside container and type text, key by key */
export async function typeInto(container, text) {
  const input = container.locator('input, textarea').first()
  await input.tap()
  await input.fill('')
  await input.pressSequentially(text, { delay: KEY_DELAY })
  assert.equal(await input.inputValue(), text, 'the field lost what was typed')
}

/** Wait until the page of route (pages/login/index) is the one shown */
export async function waitForPage(page, route) {
  await page.locator(`uni-page[data-page="${route}"]`).waitFor({ state: 'visible' })
  // The page's first render and its entering transition
  await page.evaluate(() => new Promise((resolve) => {
    requestAnimationFrame(() => requestAnimationFrame(resolve))
  }))
}

/** What an input (or text area) inside container holds */
export function valueOf(container) {
  return container.locator('input, textarea').first().inputValue()
}

/** Tap what opens a file picker, then pick files (paths) in it */
export async function pickFiles(page, opener, files) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), opener.tap()])
  await chooser.setFiles(files)
}

/** Open a tab of the tab bar by its text */
export async function openTab(page, text) {
  const exact = new RegExp(`^\\s*${text}\\s*$`)
  await page.locator('.uni-tabbar__item').filter({ hasText: exact }).tap()
}

/** The session token the app keeps (uni storage on H5 is localStorage) */
export function tokenOf(page) {
  return page.evaluate(() => localStorage.getItem('session.token'))
}

/** Log in on the login page with phone and the code the server logged */
export async function loginInBrowser(page, phone, { screenshots = false } = {}) {
  if (!page.url().includes('pages/login')) await page.goto(`${env.server.h5}#/pages/login/index`)
  await waitForPage(page, 'pages/login/index')
  await typeInto(hook(page, 'login-phone'), phone)
  const before = devCodes(phone).length
  // The button in the code's field (获取验证码), whatever the language
  await hook(page, 'login-code').locator('uni-button').tap()
  const code = await nextDevCode(phone, before)
  await typeInto(hook(page, 'login-code'), code)
  if (screenshots) await shoot(page, 'login')
  await hook(page, 'login-submit').tap()
  await page.waitForURL((url) => !url.hash.includes('pages/login'))
  assert.ok(await tokenOf(page), 'no session kept after the login')
}

/** Open "my orders" from the tab bar */
export async function openOrders(page) {
  await openTab(page, '我的订单')
  await page.locator('[data-test^="list-"]').waitFor()
}
