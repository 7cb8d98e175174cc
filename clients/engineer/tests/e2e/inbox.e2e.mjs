// 消息: a customer's new order reaches the engineer's open app by the long
// poll, within seconds and without a reload, showing nothing of the customer
// before it is accepted; two engineers accept the same offer at once: one
// wins, the other is told kindly and the offer leaves their list.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import {
  call, customerToken, engineerToken, env, hook, loginEngineer, must, newOrderBody, newPhone,
  newPhoneNumber, pageText, shoot, upload, waitForPage,
} from './harness.mjs'

// A customer of this test only: none of it may show before acceptance
const PRIVATE = {
  name: '王芳',
  company: '苏州启明检测技术有限公司',
  department: '理化实验室',
  position: '实验室主任',
  phone: '13862017745',
  address: '江苏省苏州市工业园区星湖街218号生物医药产业园B2栋',
  email: 'wangfang@qiming-test.example.com',
}

test('a new order arrives in 消息 within seconds by the long poll, without a reload, with nothing of the customer', async () => {
  const { context, page } = await newPhone()
  try {
    await loginEngineer(page, 0)
    await hook(page, 'live').waitFor() // the long poll runs
    // Marks this document: a reload would lose it
    await page.evaluate(() => { window.__sameDocument = true })
    const customer = await customerToken(newPhoneNumber())
    const photo = await upload('/files', env.media.photo, customer)
    const body = newOrderBody('repair', { files: [photo.id], contact: PRIVATE })
    body.lines[0].model = '1290 Infinity II'
    const placed = Date.now()
    const order = await must(201, 'POST', '/orders', {
      token: customer, body, headers: { 'Idempotency-Key': randomUUID() },
    })
    const offer = hook(page, `offer-${order.id}`)
    await offer.waitFor({ timeout: 10_000 })
    const seconds = (Date.now() - placed) / 1000
    assert.ok(seconds < 5, `the offer took ${seconds} s to arrive`)
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded')
    // The summary: type, instrument, region, requested time, countdown
    const card = await offer.innerText()
    for (const text of ['仪器维修', order.number, '液相色谱仪 Agilent 1290 Infinity II', '服务地区：江苏省 苏州市', '接单', '拒绝']) {
      assert.ok(card.includes(text), `the offer shows ${text}: ${card}`)
    }
    assert.match(await hook(offer, 'offer-countdown').innerText(), /剩余 \d+分\d+秒 可接单/)
    // Its notice (新订单) is there too, unread, and the tab has a badge
    await page.locator('[data-test^="notice-"].is-unread').filter({ hasText: order.number }).waitFor()
    assert.match(await page.locator('.uni-tabbar__badge').first().innerText(), /^\d+$/)
    await shoot(page, 'inbox-offer')
    // Nothing of the customer on the page before acceptance
    const text = await pageText(page)
    for (const [field, value] of Object.entries(PRIVATE)) {
      assert.ok(!text.includes(value), `消息 shows the customer's ${field} before acceptance`)
    }
    assert.ok(!text.includes('张江高科技园区'), 'no street address')
    assert.deepEqual(page.errors, [])
  } finally {
    await context.close()
  }
})

test('two engineers accept the same offer at once: one wins, the other is told kindly and the offer leaves their list', async () => {
  const phones = [await newPhone(), await newPhone()]
  try {
    await Promise.all(phones.map(({ page }, index) => loginEngineer(page, index)))
    const customer = await customerToken(newPhoneNumber())
    const order = await must(201, 'POST', '/orders', {
      token: customer, body: newOrderBody('maintenance'), headers: { 'Idempotency-Key': randomUUID() },
    })
    const buttons = phones.map(({ page }) => hook(page, `offer-${order.id}`).locator('[data-test="offer-accept"]'))
    await Promise.all(buttons.map((button) => button.waitFor()))
    // Both thumbs at the same moment
    await Promise.all(buttons.map((button) => button.tap()))

    const outcomes = await Promise.all(phones.map(async ({ page }) => {
      const won = page.locator('uni-page[data-page="task/detail/index"]')
      const told = page.locator('.uni-modal').filter({ hasText: '订单已被接走' })
      await won.or(told).first().waitFor({ timeout: 20_000 })
      return (await won.isVisible()) ? 'won' : 'told'
    }))
    assert.deepEqual([...outcomes].sort(), ['told', 'won'], `outcomes: ${outcomes}`)
    const winner = outcomes.indexOf('won')
    const loser = 1 - winner
    const { page } = phones[loser]
    const modal = page.locator('.uni-modal')
    assert.ok((await modal.innerText()).includes('手慢了一步，这单已被其他工程师接走。下次加油！'))
    await shoot(page, 'inbox-taken')
    await modal.locator('.uni-modal__btn_primary').tap()
    await hook(page, `offer-${order.id}`).waitFor({ state: 'detached' })
    // Still gone after the list is read again from the server
    await page.reload()
    await waitForPage(page, 'pages/inbox/index')
    await hook(page, 'offers').waitFor()
    await page.waitForTimeout(1000)
    assert.equal(await hook(page, `offer-${order.id}`).count(), 0)

    // The API agrees: the order is the winner's task, not the other's
    const [winnerToken, loserToken] = await Promise.all([engineerToken(winner), engineerToken(loser)])
    assert.equal((await call('GET', `/engineer/tasks/${order.id}`, { token: winnerToken })).status, 200)
    assert.notEqual((await call('GET', `/engineer/tasks/${order.id}`, { token: loserToken })).status, 200)
    const placed = await must(200, 'GET', `/orders/${order.id}`, { token: customer })
    assert.equal(placed.progress.steps[0].records.filter((r) => r.action === 'accept').length, 1)
    await waitForPage(phones[winner].page, 'task/detail/index')
    assert.deepEqual(phones.flatMap(({ page: p }) => p.errors), [])
  } finally {
    await Promise.all(phones.map(({ context }) => context.close()))
  }
})
