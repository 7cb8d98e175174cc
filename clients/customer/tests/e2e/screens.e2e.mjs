// The screens the other scenarios do not reach, each kept as a screenshot
// (375x812) in test-output/customer/: the home page logged out, the login,
// my orders logged out and empty, 我的 with its contact, the privacy policy,
// logging out; the home page and a form in English (the phone's language).
// (The order forms, the detail at every step and the lists are shot by
// order-types, lifecycle and bad-input.)
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CONTACT, SERVICES, assertNoSpinner, button, env, hook, loginInBrowser, must, newPhone,
  newPhoneNumber, openTab, shoot, tokenOf, typeInto, waitForPage,
} from './harness.mjs'

describe('screens', () => {
  let context, page, phone

  before(async () => {
    ({ context, page } = await newPhone())
    phone = newPhoneNumber()
  })

  after(() => context?.close())

  /** The home page, logged in as the customer of these tests */
  async function home() {
    await page.goto(env.server.h5)
    await waitForPage(page, 'pages/index/index')
    if (!(await tokenOf(page))) {
      await loginInBrowser(page, phone)
      await page.goto(env.server.h5)
      await waitForPage(page, 'pages/index/index')
    }
  }

  test('the home page: the eight services, the service phone, my orders', async () => {
    await page.goto(env.server.h5)
    await waitForPage(page, 'pages/index/index')
    const grid = hook(page, 'service-grid')
    await grid.waitFor()
    const { items } = await must(200, 'GET', '/order-types')
    assert.deepEqual(items.map((item) => item.code), SERVICES.map((service) => service.code))
    for (const item of items) {
      const tile = hook(page, `service-${item.code}`)
      assert.equal((await tile.locator('.service__name').innerText()).trim(), item.name.zh_CN)
      // An icon and a line each
      await page.waitForFunction((selector) => {
        const img = document.querySelector(selector)
        return img && img.complete && img.naturalWidth > 0
      }, `[data-test="service-${item.code}"] img`)
      assert.ok((await tile.locator('.service__line').innerText()).trim(), `${item.code} has no line`)
    }
    const config = await must(200, 'GET', '/config')
    assert.match(await hook(page, 'service-phone').innerText(), new RegExp(config.service_phone))
    await hook(page, 'my-orders').waitFor()
    await assertNoSpinner(page)
    assert.deepEqual(page.errors, [])
    await shoot(page, 'home')
  })

  test('logged out, my orders asks to log in; the login', async () => {
    await openTab(page, '我的订单')
    await page.waitForURL(/pages\/(login|orders)/)
    await page.waitForTimeout(500)
    await shoot(page, 'orders-logged-out')
    await page.goto(`${env.server.h5}#/pages/login/index`)
    await waitForPage(page, 'pages/login/index')
    await shoot(page, 'login')
    // A wrong code says so, next to the form
    await typeInto(hook(page, 'login-phone'), phone)
    await button(page, '获取验证码').tap()
    await page.getByText('验证码已发送').waitFor()
    await typeInto(hook(page, 'login-code'), '000000')
    await hook(page, 'login-submit').tap()
    await hook(page, 'login-message').waitFor()
    assert.ok((await hook(page, 'login-message').innerText()).trim())
    await assertNoSpinner(page)
    await shoot(page, 'login-wrong-code')
    await page.reload()
    await loginInBrowser(page, phone, { screenshots: true })
  })

  test('my orders, empty', async () => {
    await home()
    await hook(page, 'my-orders').tap()
    await waitForPage(page, 'pages/orders/index')
    await hook(page, 'orders-empty').waitFor()
    await assertNoSpinner(page)
    await shoot(page, 'orders-empty')
  })

  test('我的: the contact kept for the next order, the privacy policy, logging out', async () => {
    await home()
    await openTab(page, '我的')
    await waitForPage(page, 'pages/me/index')
    await shoot(page, 'me-empty')
    for (const [name, value] of Object.entries(CONTACT)) {
      if (name !== 'phone') await typeInto(hook(page, `contact.${name}`), value)
    }
    await hook(page, 'save-contact').tap()
    const saved = page.getByText('已保存').first()
    await saved.waitFor()
    await assertNoSpinner(page)
    await shoot(page, 'me-saved')
    await saved.waitFor({ state: 'hidden' })
    await shoot(page, 'me', { scroll: true })
    const me = await must(200, 'GET', '/me', { token: await tokenOf(page) })
    assert.deepEqual(me.contact, { ...CONTACT, phone })

    await hook(page, 'privacy-link').tap()
    await waitForPage(page, 'pages/privacy/index')
    await page.getByText('一、我们收集的信息').waitFor()
    await shoot(page, 'privacy', { scroll: true })
    await page.goBack()
    await waitForPage(page, 'pages/me/index')

    await hook(page, 'logout').tap()
    await page.locator('.uni-modal').waitFor()
    await shoot(page, 'me-logout-confirm')
    await page.locator('.uni-modal__btn_primary').tap()
    await page.waitForFunction(() => !localStorage.getItem('session.token'))
    await assertNoSpinner(page)
    await shoot(page, 'me-logged-out')
  })

  test('in English when the phone is', async () => {
    const english = await newPhone({ locale: 'en-US' })
    try {
      await english.page.goto(env.server.h5)
      await waitForPage(english.page, 'pages/index/index')
      const { items } = await must(200, 'GET', '/order-types')
      await hook(english.page, 'service-grid').waitFor()
      for (const item of items) {
        assert.equal((await hook(english.page, `service-${item.code}`).locator('.service__name')
          .innerText()).trim(), item.name.en)
      }
      await shoot(english.page, 'home-en')
      await loginInBrowser(english.page, newPhoneNumber())
      await english.page.goto(env.server.h5)
      await hook(english.page, 'service-validation').tap()
      await hook(english.page, 'order-form-validation').waitFor()
      await english.page.getByText('IQ Installation Qualification').waitFor()
      await shoot(english.page, 'order-validation-form-en', { scroll: true })
    } finally {
      await english.context.close()
    }
  })
})
