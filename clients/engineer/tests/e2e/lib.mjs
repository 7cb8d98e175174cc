// What the browser tests of the engineer H5 app (harness.mjs sets them up)
// and the apps' benchmark (bench/apps/) use besides the customer app's
// helpers (re-exported from ../../../customer/tests/e2e/lib.mjs: the test
// server, the API, the browser, taps and typing): the engineer's login in
// the browser, orders placed by a customer through the API, the step forms'
// widgets (date and time picker, photos, the check-in), and waiting for the
// API to show what the engineer did. Screenshots go to test-output/engineer/.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import {
  ROOT, env, hook, must, newOrderBody, pickFiles, shoot, tokenOf, typeInto, upload, waitForPage,
} from '../../../customer/tests/e2e/lib.mjs'

export * from '../../../customer/tests/e2e/lib.mjs'

export const ENGINEER_OUTPUT = path.join(ROOT, 'test-output', 'engineer')

/** Where a phone's browser may ask for the position: Shanghai, Zhangjiang */
export const POSITION = { latitude: 31.2035, longitude: 121.5914, accuracy: 15 }

/** The page of route of the engineer app (pages/inbox/index) */
export function engineerUrl(route = '') {
  return route ? `${env.server.engineer}#/${route}` : env.server.engineer
}

/** Log the test server's engineer number index in on the login page */
export async function loginEngineer(page, index = 0, { screenshots = false } = {}) {
  const { login, password } = env.server.people.engineers[index]
  await page.goto(engineerUrl('pages/login/index'))
  await waitForPage(page, 'pages/login/index')
  await typeInto(hook(page, 'login-login'), login)
  await typeInto(hook(page, 'login-password'), password)
  if (screenshots) await shoot(page, 'login')
  await hook(page, 'login-submit').tap()
  await waitForPage(page, 'pages/inbox/index')
  assert.ok(await tokenOf(page), 'no session kept after the login')
}

/** A customer's new order through the API (a fault photo on its line) */
export async function placeOrder(customer, type = 'repair', { index = 0 } = {}) {
  const photo = await upload('/files', env.media.photo, customer)
  return must(201, 'POST', '/orders', {
    token: customer,
    body: newOrderBody(type, { files: [photo.id], index }),
    headers: { 'Idempotency-Key': randomUUID() },
  })
}

/** The order as its customer reads it */
export function orderOf(customer, id) {
  return must(200, 'GET', `/orders/${id}`, { token: customer })
}

/** Wait until the customer's view of the order passes check (which answers
 * truthy); answers the order */
export async function waitForOrder(customer, id, check, { timeout = 20_000, what = 'the order' } = {}) {
  const deadline = Date.now() + timeout
  for (;;) {
    const order = await orderOf(customer, id)
    if (check(order)) return order
    if (Date.now() > deadline) {
      assert.fail(`${what} not shown by the API in ${timeout / 1000} s: `
        + JSON.stringify(order.progress, null, 1).slice(0, 3000))
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Every record of the order's progress, in order, with its step */
export function recordsOf(order) {
  return order.progress.steps.flatMap((step) => step.records.map((record) => ({ step: step.code, ...record })))
}

/** The record of an action in the order's progress (the last one) */
export function recordOf(order, action) {
  return recordsOf(order).filter((record) => record.action === action).at(-1)
}

/** The customer answers through the API, with the action progress.actions
 * offers now (its request as given) */
export async function customerAnswers(customer, order, action, body = {}) {
  const offered = order.progress.actions.find((a) => a.action === action)
  assert.ok(offered, `the customer is not offered ${action}: ${order.progress.actions.map((a) => a.action)}`)
  return must(200, offered.request.method, offered.request.path, {
    token: customer, body, headers: { 'Idempotency-Key': randomUUID() },
  })
}

// ---- the step form ------------------------------------------------------------

/** The form of action on the task's page */
export function formOf(page, action) {
  return hook(page, `form-${action}`)
}

/** A field's row of a form */
export function rowOf(form, field) {
  return form.locator(`[data-test="row-${field}"]`)
}

/** Open the date and time picker of a row and take what it shows (the
 * earliest time allowed, or now); answers the text the row then shows */
export async function pickDateTime(page, row) {
  await row.locator('.wd-datetime-picker .wd-cell').first().tap()
  const popup = page.locator('.wd-datetime-picker__popup').locator('visible=true').first()
  await popup.waitFor()
  await page.waitForTimeout(400) // the columns settle
  await popup.locator('.wd-datetime-picker__action:not(.wd-datetime-picker__action--cancel)').tap()
  // The field shows the time taken (the popup slides out meanwhile)
  const pattern = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/
  for (let tries = 0; tries < 50; tries += 1) {
    const shown = (await row.innerText()).trim()
    if (pattern.test(shown)) return shown
    await page.waitForTimeout(100)
  }
  assert.fail(`the time picked is not shown: ${await row.innerText()}`)
}

/** Add photos (or documents: the add-document tile) to a row */
export async function addFiles(page, row, files, { documents = false } = {}) {
  await pickFiles(page, row.locator(`[data-test="${documents ? 'add-document' : 'add-photo'}"]`), files)
}

/** Wait until the row shows count file tiles, each in state (sent, pending...) */
export async function waitForTiles(row, count, state = 'sent', timeout = 30_000) {
  await row.locator(`[data-test="file-tile"].is-${state}`).nth(count - 1).waitFor({ timeout })
  assert.equal(await row.locator('[data-test="file-tile"]').count(), count, 'file tiles')
}

/** Tap 打卡 in a row and wait for its position */
export async function checkInHere(row) {
  await row.locator('[data-test="check-in"]').tap()
  await row.locator('[data-test="check-in-done"]').waitFor()
}

/** The text the page shows (what a person can read) */
export function pageText(page) {
  return page.evaluate(() => document.body.innerText)
}
