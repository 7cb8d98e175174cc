// Scenario 3: bad input and bad networks. Empty required fields, a file over
// 10 MB, a file of a type the app does not take, the connection cut during
// an upload and during the submission (the answer lost after the server
// made the order), each then retried: a clear message each time, no spinner
// left turning, and in the end one order holding every file.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { basename } from 'node:path'
import {
  CONTACT, assertNoSpinner, env, hook, loginInBrowser, must, newPhone, newPhoneNumber,
  pickFiles, shoot, tokenOf, typeInto, waitForPage,
} from './harness.mjs'

const NETWORK_MESSAGE = '网络连接失败'

/** Some visible text of the page holds text (a field error, a toast) */
async function expectMessage(page, text, timeout = 20_000) {
  await page.getByText(text, { exact: false }).locator('visible=true').first()
    .waitFor({ timeout })
}

/** From the home page, tap the service: its order form */
async function openForm(page, type) {
  await page.goto(env.server.h5)
  await waitForPage(page, 'pages/index/index')
  await hook(page, `service-${type}`).tap()
  await hook(page, `order-form-${type}`).waitFor()
}

describe('bad input and bad networks', () => {
  let context, page, token, phone

  before(async () => {
    ({ context, page } = await newPhone())
    phone = newPhoneNumber()
    await page.goto(env.server.h5)
    await loginInBrowser(page, phone)
    token = await tokenOf(page)
  })

  after(() => context?.close())

  test('empty required fields: the errors beside them, nothing sent', async () => {
    await openForm(page, 'repair')
    // The phone of the login fills the contact's phone
    await page.waitForFunction((value) => document.querySelector(
      '[data-test="contact.phone"] input')?.value === value, phone)
    await hook(page, 'submit-order').tap()
    // Each required field of the contact and of the line says so
    for (const name of ['name', 'company']) {
      const error = hook(page, `contact.${name}`).locator('.field-error')
      await error.waitFor()
      assert.ok((await error.innerText()).trim(), `contact.${name} shows no error`)
    }
    for (const name of ['instrument_name', 'brand', 'fault_description']) {
      const error = hook(page, `error-lines[0].${name}`)
      await error.waitFor()
      assert.ok((await error.innerText()).trim(), `lines[0].${name} shows no error`)
    }
    await assertNoSpinner(page)
    await shoot(page, 'bad-input-required')
    const mine = await must(200, 'GET', '/orders', { token })
    assert.equal(mine.total, 0)
    // Typing in a field clears its error
    await typeInto(hook(page, 'contact.name'), CONTACT.name)
    await hook(page, 'contact.name').locator('.field-error').waitFor({ state: 'detached' })
  })

  test('a file over 10 MB and files of the wrong type are refused before sending', async () => {
    await openForm(page, 'recycle')
    const sent = []
    const listener = (request) => {
      if (request.url().endsWith('/api/v1/files')) sent.push(request)
    }
    page.on('request', listener)
    try {
      const attachments = hook(page, 'upload-files')
      await pickFiles(page, attachments.locator('[data-test="add-document"]'), [env.media.big_pdf])
      await expectMessage(page, `“${basename(env.media.big_pdf)}”超过`)
      await assertNoSpinner(page)
      await shoot(page, 'bad-input-too-big')

      await pickFiles(page, attachments.locator('[data-test="add-document"]'), [env.media.wrong_type])
      await expectMessage(page, `“${basename(env.media.wrong_type)}”的格式不支持`)
      await assertNoSpinner(page)
      await shoot(page, 'bad-input-wrong-type')

      // A PDF where the line takes photos only (validation: 拍照)
      await openForm(page, 'validation')
      const photos = hook(page, 'upload-lines[0].files')
      await pickFiles(page, photos.locator('[data-test="add-photo"]'), [env.media.pdf])
      await expectMessage(page, `“${basename(env.media.pdf)}”不是照片`)
      await assertNoSpinner(page)
      await shoot(page, 'bad-input-not-a-photo')
      assert.equal(sent.length, 0, `sent: ${sent.map((r) => r.url())}`)
      assert.equal(await page.locator('[data-test="upload-tile"]').locator('visible=true').count(), 0)
    } finally {
      page.off('request', listener)
    }
  })

  test('the connection cut during uploads and during the submission, then retried', async () => {
    await openForm(page, 'repair')
    for (const [name, value] of Object.entries(CONTACT)) {
      await typeInto(hook(page, `contact.${name}`), value)
    }
    await typeInto(hook(page, 'lines[0].instrument_name'), '气相色谱仪')
    await typeInto(hook(page, 'lines[0].brand'), 'Shimadzu')
    await typeInto(hook(page, 'lines[0].fault_description'), '进样口漏气')

    // Uploads: every attempt cut while the network is down
    let down = true
    let cutUploads = 0
    await page.route('**/api/v1/files', async (route) => {
      if (down && route.request().method() === 'POST') {
        cutUploads += 1
        await route.abort('internetdisconnected')
      } else {
        await route.continue()
      }
    })
    const photos = hook(page, 'upload-lines[0].files')
    await pickFiles(page, photos.locator('[data-test="add-photo"]'), [env.media.photo])
    await pickFiles(page, hook(page, 'upload-files').locator('[data-test="add-document"]'), [env.media.pdf])
    await page.locator('[data-test="upload-tile"].is-failed').nth(1).waitFor({ timeout: 30_000 })
    assert.ok(cutUploads >= 2, `${cutUploads} uploads cut`)
    await expectMessage(page, '上传失败')
    await assertNoSpinner(page)
    await shoot(page, 'bad-network-upload-failed', { scroll: true })
    // Submitting now says the files are not there yet, and sends nothing
    await hook(page, 'submit-order').tap()
    await expectMessage(page, '有文件上传失败')
    assert.equal((await must(200, 'GET', '/orders', { token })).total, 0)

    down = false
    const retries = page.locator('[data-test="upload-retry"]')
    assert.equal(await retries.count(), 2)
    while (await retries.count()) await retries.first().tap()
    await page.waitForFunction(() => {
      const tiles = [...document.querySelectorAll('[data-test="upload-tile"]')]
      return tiles.length === 2 && tiles.every((tile) => tile.classList.contains('is-done'))
    }, null, { timeout: 30_000 })

    // Submission: the server makes the order, the answer is lost, every
    // attempt (the app's own retries too) while the network is down
    let lostAnswers = 0
    const keys = new Set()
    await page.route('**/api/v1/orders', async (route) => {
      if (route.request().method() !== 'POST') return route.continue()
      keys.add(route.request().headers()['idempotency-key'])
      if (!down) return route.continue()
      await route.fetch()
      lostAnswers += 1
      await route.abort('connectionreset')
    })
    down = true
    await hook(page, 'submit-order').tap()
    await expectMessage(page, NETWORK_MESSAGE, 60_000)
    await assertNoSpinner(page)
    await shoot(page, 'bad-network-submit-failed')
    assert.ok(lostAnswers >= 1)
    // The server has it; the phone does not know
    assert.equal((await must(200, 'GET', '/orders', { token })).total, 1)

    down = false
    await hook(page, 'submit-order').tap()
    await hook(page, 'done-number').waitFor({ timeout: 30_000 })
    await assertNoSpinner(page)
    await shoot(page, 'bad-network-submit-retried')
    await page.unrouteAll({ behavior: 'ignoreErrors' })

    // One key for every attempt, one order, every file
    assert.equal(keys.size, 1, `Idempotency-Keys sent: ${[...keys]}`)
    const mine = await must(200, 'GET', '/orders', { token })
    assert.equal(mine.total, 1)
    const order = await must(200, 'GET', `/orders/${mine.items[0].id}`, { token })
    assert.equal(order.lines[0].fault_description, '进样口漏气')
    assert.deepEqual(order.lines[0].files.map((f) => f.mimetype), ['image/jpeg'])
    assert.deepEqual(order.files.map((f) => f.name), [basename(env.media.pdf)])
    assert.ok((await hook(page, 'done-number').innerText()).includes(order.number))
  })
})
