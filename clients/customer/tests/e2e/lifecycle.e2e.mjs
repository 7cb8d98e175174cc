// Scenario 2: one order through its whole life. The engineer's steps go
// through the API (as the engineer app sends them); the customer rejects then
// confirms the quote, confirms the report and rates in the browser. After
// each step the detail page shows the step's name and the hint of SPEC §4.
// Also: the list's tabs, the page refreshing itself, a cancellation.
import { before, after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { basename } from 'node:path'
import {
  assertNoSpinner, button, checkIn, engineerStep, engineerToken, env, hook, loginInBrowser, must,
  newOrderBody, newPhone, newPhoneNumber, openTab, shoot, tokenOf, typeInto, upload,
  waitForPage,
} from './harness.mjs'

const TYPE = 'repair'
const NOUN = '维修'
// SPEC §4 for a repair: the step names, and the hint of each step
const STEP_NAMES = ['已接单', '判断是否需要上门', '检修完成', `${NOUN}方案和报价`, `${NOUN}中`,
  '验证报告', '服务评价', '订单已完成']
const HINTS = {
  submitted: '订单已提交，正在为您安排工程师',
  accepted: '请保持电话畅通，我们稍后会联系您',
  visit: (date) => `等待上门：已约定上门时间为${date}请保持电话畅通，工程师会按约定时间上门`,
  assessment: `请稍等，正在为您出${NOUN}方案和报价`,
  quote: (amount) => `${NOUN}报价：${amount}元`,
  revising: `已收到您的意见，工程师正在修改${NOUN}方案和报价，请稍候。`,
  work: `工程师${NOUN}中`,
  report: `已完成${NOUN}验证，点击查看验证报告\n请确认验证报告`,
  rating: '1、服务态度\n2、服务质量\n3、总体评价',
  done: '祝您生活愉快！',
}

/** An appointment three days ahead at 10:00 in Shanghai, and how SPEC §4 writes it */
function appointment() {
  const day = new Date(Date.now() + 3 * 86400e3 + 8 * 3600e3) // Shanghai's calendar day
  const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()]
  const pad = (v) => String(v).padStart(2, '0')
  return { iso: `${y}-${pad(m)}-${pad(d)}T10:00:00+08:00`, text: `${y}年${m}月${d}日10:00` }
}

/** The detail page shows step (its name; none before acceptance) and hint */
async function expectStep(page, step, hint, { timeout = 15_000 } = {}) {
  const head = hook(page, 'order-hint')
  await head.waitFor({ timeout })
  const deadline = Date.now() + timeout
  let shown
  for (;;) {
    shown = (await head.innerText()).trim()
    const name = step ? (await hook(page, 'current-step').innerText()).trim() : ''
    if ((!step || name === step) && shown.replace(/\s+/g, ' ').includes(hint.replace(/\s+/g, ' '))) break
    if (Date.now() > deadline) {
      assert.fail(`the page shows "${shown}", expected the step "${step}" and the hint "${hint}"`)
    }
    await page.waitForTimeout(200)
  }
  await assertNoSpinner(page)
}

/** The timeline lists the eight steps by their names, in order */
async function expectTimeline(page) {
  const text = await hook(page, 'timeline').innerText()
  let at = -1
  for (const name of STEP_NAMES) {
    const found = text.indexOf(name, at + 1)
    assert.ok(found > at, `the timeline lacks "${name}" (in order): ${text}`)
    at = found
  }
}

/** Open the form of an action (a button of the page), fill its text, send it */
async function sendForm(page, action, text) {
  await hook(page, `button-${action.action}`).tap()
  const form = hook(page, `action-${action.action}`)
  await form.waitFor()
  await typeInto(form.locator('[data-test="action-field-reason"]'), text)
  await shoot(page, `detail-${action.action}-form`)
  await button(form, action.button).tap()
}

/** Tap an action's button, then 确定 in the confirmation */
async function confirmAction(page, action) {
  const tapped = hook(page, `button-${action.action}`)
  assert.equal((await tapped.innerText()).trim(), action.button)
  await tapped.tap()
  await page.locator('.uni-modal__btn_primary').tap()
}

describe('one order through its whole life', () => {
  let context, page, engineer, customer, order, reload

  before(async () => {
    ({ context, page } = await newPhone())
    await page.goto(env.server.h5)
    await loginInBrowser(page, newPhoneNumber())
    customer = await tokenOf(page)
    engineer = await engineerToken(0)
    const photo = await upload('/files', env.media.photo, customer)
    const pdf = await upload('/files', env.media.pdf, customer)
    order = await must(201, 'POST', '/orders', {
      token: customer,
      body: { ...newOrderBody(TYPE, { files: [photo.id] }), files: [pdf.id] },
      headers: { 'Idempotency-Key': randomUUID() },
    })
    // What the customer's action buttons say and do, as the API gives them
    const actionOf = async (name) => {
      const view = await must(200, 'GET', `/orders/${order.id}`, { token: customer })
      const action = view.progress.actions.find((a) => a.action === name)
      assert.ok(action, `no ${name} among ${view.progress.actions.map((a) => a.action)}`)
      return action
    }
    order.actionOf = actionOf
    reload = async () => {
      await page.reload()
      await waitForPage(page, 'order/detail/index')
    }
  })

  after(() => context?.close())

  test('submitted, then accepted: the page refreshes by itself', async () => {
    await page.goto(`${env.server.h5}#/order/detail/index?id=${order.id}`)
    await waitForPage(page, 'order/detail/index')
    await expectStep(page, null, HINTS.submitted)
    await expectTimeline(page)
    await shoot(page, 'detail-0-submitted')
    // The order's PDF opens (H5: in a new tab, fetched with the token)
    const [opened] = await Promise.all([
      context.waitForEvent('page'),
      page.locator('.is-file-list__document').filter({ hasText: basename(env.media.pdf) }).tap(),
    ])
    assert.match(opened.url(), /^blob:/)
    await opened.close()
    await must(200, 'POST', `/engineer/inbox/${order.id}/accept`, {
      token: engineer, headers: { 'Idempotency-Key': randomUUID() },
    })
    // No reload: the page reads the order again while it is shown
    await expectStep(page, STEP_NAMES[0], HINTS.accepted, { timeout: 25_000 })
    await shoot(page, 'detail-1-accepted')
  })

  test('an on-site visit, then the assessment with a photo', async () => {
    const visit = appointment()
    await engineerStep(engineer, order.id, 'visit_onsite', { appointment: visit.iso })
    await reload()
    await expectStep(page, STEP_NAMES[1], HINTS.visit(visit.text))
    await shoot(page, 'detail-2-visit')

    const photo = await upload(`/engineer/tasks/${order.id}/files`, env.media.photo, engineer)
    await engineerStep(engineer, order.id, 'submit_assessment', {
      description: `${NOUN}评估：泵密封圈老化`,
      photos: [photo.id],
      check_in: checkIn(),
    })
    await reload()
    await expectStep(page, STEP_NAMES[2], HINTS.assessment)
    // The engineer's photo is shown with the step's text
    const timeline = hook(page, 'timeline')
    await timeline.getByText(`${NOUN}评估：泵密封圈老化`).waitFor()
    await page.waitForFunction(() => [...document.querySelectorAll('[data-test="timeline"] img')]
      .some((img) => img.complete && img.naturalWidth > 0))
    await shoot(page, 'detail-3-assessment')
    // Tapped, the photo is shown full size
    await timeline.locator('.is-file-list__photo').first().tap()
    // (uni.previewImage on H5: a layer of its own, #u-a-p)
    await page.waitForFunction(() => [...document.querySelectorAll('#u-a-p img')]
      .some((img) => img.complete && img.naturalWidth >= 1000))
    await shoot(page, 'detail-3-photo-preview')
    await page.locator('#u-a-p img').tap()
    await page.locator('#u-a-p img').waitFor({ state: 'detached' })
  })

  test('the quote: rejected with a reason, revised, confirmed in the app', async () => {
    await engineerStep(engineer, order.id, 'submit_quote', {
      description: '更换泵密封圈', amount: '1000.00',
    })
    // "Waiting for me": the order is in the tab, and a tap opens it
    await page.goto(env.server.h5)
    await waitForPage(page, 'pages/index/index')
    await openTab(page, '我的订单')
    await waitForPage(page, 'pages/orders/index')
    await page.locator('.wd-tabs__nav-item').filter({ hasText: '待我确认' }).tap()
    const card = hook(page, `order-${order.number}`)
    await card.waitFor()
    await shoot(page, 'orders-awaiting-quote')
    await card.tap()
    await waitForPage(page, 'order/detail/index')
    await expectStep(page, STEP_NAMES[3], HINTS.quote('1000'))
    await hook(page, 'quote-amount').waitFor()
    assert.match(await hook(page, 'quote').innerText(), /更换泵密封圈/)
    assert.match(await hook(page, 'quote-amount').innerText(), /1,?000\.00/)
    const confirm = await order.actionOf('confirm_quote')
    assert.equal(confirm.button, '确认订单')
    await shoot(page, 'detail-4-quote')

    await sendForm(page, await order.actionOf('reject_quote'), '价格太高')
    await expectStep(page, STEP_NAMES[3], HINTS.revising)
    await hook(page, 'revising').waitFor()
    await shoot(page, 'detail-4-quote-rejected')
    let view = await must(200, 'GET', `/orders/${order.id}`, { token: customer })
    assert.equal(view.progress.quote.state, 'rejected')
    assert.equal(view.progress.quote.reason, '价格太高')

    await engineerStep(engineer, order.id, 'submit_quote', {
      description: '更换泵密封圈（国产配件）', amount: '800.50',
    })
    await reload()
    await expectStep(page, STEP_NAMES[3], HINTS.quote('800.50'))
    assert.match(await hook(page, 'quote').innerText(), /价格太高/) // the first version's reason
    await shoot(page, 'detail-4-quote-revised', { scroll: true })
    await confirmAction(page, await order.actionOf('confirm_quote'))
    await expectStep(page, STEP_NAMES[4], HINTS.work)
    await shoot(page, 'detail-5-work')
    view = await must(200, 'GET', `/orders/${order.id}`, { token: customer })
    assert.equal(view.progress.quote.state, 'confirmed')
    assert.equal(view.progress.quote.amount, '800.50')
  })

  test('the report, confirmed in the app', async () => {
    await engineerStep(engineer, order.id, 'submit_report', { report: `${NOUN}完成，各项指标合格` })
    await reload()
    await expectStep(page, STEP_NAMES[5], HINTS.report)
    assert.match(await hook(page, 'report').innerText(), /各项指标合格/)
    await shoot(page, 'detail-6-report')
    await confirmAction(page, await order.actionOf('confirm_report'))
    await expectStep(page, STEP_NAMES[6], HINTS.rating)
    const view = await must(200, 'GET', `/orders/${order.id}`, { token: customer })
    assert.equal(view.progress.report.state, 'confirmed')
  })

  test('the rating, three rows of stars and a comment, completes the order', async () => {
    const rate = await order.actionOf('rate')
    const form = hook(page, `action-${rate.action}`)
    await form.waitFor()
    const stars = { attitude: 5, quality: 4, overall: 5 }
    for (const [name, count] of Object.entries(stars)) {
      await form.locator(`[data-test="action-field-${name}"] .wd-rate__item`).nth(count - 1).tap()
    }
    await typeInto(form.locator('[data-test="action-field-comment"]'), '工程师很专业')
    await shoot(page, 'detail-7-rating')
    await button(form, rate.button).tap()
    await expectStep(page, STEP_NAMES[7], HINTS.done)
    await hook(page, 'rating').waitFor()
    await shoot(page, 'detail-8-done', { scroll: true })
    const view = await must(200, 'GET', `/orders/${order.id}`, { token: customer })
    assert.equal(view.state, 'done')
    assert.deepEqual(view.progress.rating, { ...stars, comment: '工程师很专业' })
    assert.deepEqual(view.progress.actions, [])
  })

  test('the tabs of my orders', async () => {
    await page.goto(env.server.h5)
    await waitForPage(page, 'pages/index/index')
    await openTab(page, '我的订单')
    await waitForPage(page, 'pages/orders/index')
    for (const [tab, listed, name] of [['全部', true, 'all'], ['进行中', false, 'in-progress'],
      ['待我确认', false, 'awaiting'], ['已完成', true, 'done'], ['已取消', false, 'cancelled']]) {
      await page.locator('.wd-tabs__nav-item').filter({ hasText: tab }).tap()
      const card = hook(page, `order-${order.number}`)
      if (listed) {
        await card.waitFor()
      } else {
        await page.waitForTimeout(1000)
        assert.equal(await card.locator('visible=true').count(), 0, `${tab} lists the finished order`)
      }
      await assertNoSpinner(page)
      await shoot(page, `orders-tab-${name}`)
    }
  })

  test('a cancellation before the work starts, with a reason', async () => {
    const other = await must(201, 'POST', '/orders', {
      token: customer,
      body: newOrderBody('maintenance'),
      headers: { 'Idempotency-Key': randomUUID() },
    })
    await must(200, 'POST', `/engineer/inbox/${other.id}/accept`, {
      token: engineer, headers: { 'Idempotency-Key': randomUUID() },
    })
    await page.goto(`${env.server.h5}#/order/detail/index?id=${other.id}`)
    await waitForPage(page, 'order/detail/index')
    await expectStep(page, STEP_NAMES[0], HINTS.accepted)
    const view = await must(200, 'GET', `/orders/${other.id}`, { token: customer })
    const cancel = view.progress.actions.find((a) => a.action === 'cancel')
    assert.ok(cancel)
    await sendForm(page, cancel, '设备已自行修好')
    await page.waitForFunction(() => document.querySelector('[data-test="order-head"]')
      ?.innerText.includes('已取消'))
    await assertNoSpinner(page)
    await shoot(page, 'detail-cancelled')
    const cancelled = await must(200, 'GET', `/orders/${other.id}`, { token: customer })
    assert.equal(cancelled.state, 'cancelled')
  })
})
