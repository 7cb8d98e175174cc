// A screenshot of every screen of the engineer app, as a phone shows it, in
// test-output/engineer/ (looked at by a person after a change to the
// screens): 登录, 消息, 主页 (the list, a day, a week), 任务详情 with a step
// form, 我的, the privacy policy; in Chinese, then in English (the phone's
// language) where no key of the locale may show untranslated.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import {
  customerToken, engineerStep, engineerToken, engineerUrl, hook, loginEngineer, must, newPhone,
  newPhoneNumber, openTab, pageText, placeOrder, shoot, waitForPage,
} from './harness.mjs'

// The keys of the app's messages (locale/zh-CN.ts): none may be shown as is
const KEYS = [...readFileSync(new URL('../../locale/zh-CN.ts', import.meta.url), 'utf8')
  .matchAll(/^\s*'([a-z_]+(?:\.[a-z0-9_]+)+)':/gm)].map((match) => match[1])

async function assertTranslated(page, screen) {
  const text = await pageText(page)
  const shown = KEYS.filter((key) => text.includes(key))
  assert.deepEqual(shown, [], `${screen} shows message keys`)
}

/** Engineer 0's tasks for the screens: one offered, one visited soon (the
 * day's and week's views), one waiting for the visit decision */
async function seed() {
  const customer = await customerToken(newPhoneNumber())
  const engineer = await engineerToken(0)
  const orders = []
  for (const [index, type] of ['repair', 'installation', 'validation'].entries()) {
    orders.push(await placeOrder(customer, type, { index }))
  }
  for (const order of orders.slice(0, 2)) {
    await must(200, 'POST', `/engineer/inbox/${order.id}/accept`, {
      token: engineer, headers: { 'Idempotency-Key': randomUUID() },
    })
  }
  await engineerStep(engineer, orders[0].id, 'visit_onsite', {
    appointment: new Date(Date.now() + 15 * 60e3).toISOString(), description: '带备用密封圈',
  })
  return { visited: orders[0], waiting: orders[1], offered: orders[2] }
}

let tasks

async function screens(page, suffix) {
  const name = (screen) => `${screen}${suffix}`
  // 消息: the offer and the notices
  await waitForPage(page, 'pages/inbox/index')
  await hook(page, `offer-${tasks.offered.id}`).waitFor()
  await shoot(page, name('inbox'))
  await assertTranslated(page, '消息')

  // 主页: the list, a day, a week
  await openTab(page, suffix ? 'Home' : '主页')
  await waitForPage(page, 'pages/tasks/index')
  await hook(page, `task-${tasks.visited.id}`).waitFor()
  await hook(page, `task-${tasks.waiting.id}`).waitFor()
  await shoot(page, name('tasks'))
  await assertTranslated(page, '主页')
  const views = hook(page, 'view-switch').locator('.wd-segmented__item')
  await views.nth(1).tap()
  await hook(page, 'schedule-day').waitFor()
  await hook(page, `slot-${tasks.visited.id}`).waitFor()
  await shoot(page, name('tasks-day'))
  await assertTranslated(page, '主页 (day)')
  await views.nth(2).tap()
  await hook(page, 'schedule-week').waitFor()
  await hook(page, `slot-${tasks.visited.id}`).waitFor()
  await shoot(page, name('tasks-week'))
  await assertTranslated(page, '主页 (week)')
  await views.nth(0).tap()

  // 任务详情 with the assessment's form (photos, check-in)
  await hook(page, `task-${tasks.visited.id}`).tap()
  await waitForPage(page, 'task/detail/index')
  await hook(page, 'form-submit_assessment').waitFor()
  await shoot(page, name('task-detail'), { scroll: true })
  await assertTranslated(page, '任务详情')
  await page.goBack()
  await waitForPage(page, 'pages/tasks/index')

  // 我的 and the privacy policy
  await openTab(page, suffix ? 'Me' : '我的')
  await waitForPage(page, 'pages/me/index')
  await hook(page, 'me-engineer').waitFor()
  assert.ok((await hook(page, 'me-engineer').innerText()).includes('工程师00'))
  await shoot(page, name('me'))
  await assertTranslated(page, '我的')
  await hook(page, 'privacy-link').tap()
  await waitForPage(page, 'pages/privacy/index')
  await shoot(page, name('privacy'), { scroll: true })
  await assertTranslated(page, 'privacy')
}

test('every screen in Chinese, kept as screenshots', async () => {
  tasks = await seed()
  const { context, page } = await newPhone()
  try {
    await loginEngineer(page, 0, { screenshots: true })
    await screens(page, '')
    assert.deepEqual(page.errors, [])
  } catch (error) {
    await shoot(page, 'failed-screens', { scroll: true })
    throw error
  } finally {
    await context.close()
  }
})

test('every screen in English (the phone\'s language), no message key untranslated', async () => {
  const { context, page } = await newPhone({ locale: 'en-US' })
  try {
    await page.goto(engineerUrl('pages/login/index'))
    await waitForPage(page, 'pages/login/index')
    await shoot(page, 'login-en')
    await assertTranslated(page, 'login')
    assert.ok((await pageText(page)).includes('Log in'), 'the login page is in English')
    await loginEngineer(page, 0)
    await screens(page, '-en')
  } finally {
    await context.close()
  }
})
