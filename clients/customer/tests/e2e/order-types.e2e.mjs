// Scenario 1: an order of each of the eight types, the form filled as a
// person fills it (taps, typing, the quantity's +, the time picker, the
// validation categories, photos and a PDF from the file picker), then what
// the API holds checked against what was typed and attached.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { basename } from 'node:path'
import {
  CONTACT, SERVICES, assertNoSpinner, env, hook, loginInBrowser, must, newPhone,
  newPhoneNumber, pickFiles, shoot, tokenOf, typeInto, valueOf,
} from './harness.mjs'

// What a person types in each text field of a line
const TYPED = {
  instrument_name: '液相色谱仪',
  category: '色谱',
  brand: 'Agilent',
  model: '1260 Infinity II',
  fault_description: '泵压力波动，基线噪音大，开机自检报错 E-203',
  requirement: '检测水中重金属，检出限低于1ppb，每天约200个样品',
}

// The photo each type's line gets: the repair line a phone camera's 4 MB
// photo, which the app must compress
const PHONE_PHOTO_TYPE = 'repair'
const COMPRESSED_LIMIT = 600 * 1024

describe('an order of each type, filled in as a person does', () => {
  let phone, context, page, orderTypes
  // Whether an order was submitted already: its contact is then remembered
  let remembered = false

  before(async () => {
    ({ context, page } = await newPhone())
    orderTypes = await must(200, 'GET', '/order-types')
    phone = newPhoneNumber()
    await page.goto(env.server.h5)
    await hook(page, 'service-grid').waitFor()
    await loginInBrowser(page, phone)
  })

  after(() => context?.close())

  for (const service of SERVICES) {
    test(`${service.code}: ${service.name}`, async () => {
      const type = orderTypes.items.find((item) => item.code === service.code)
      assert.ok(type, `GET /order-types has no ${service.code}`)
      await page.goto(env.server.h5)
      await hook(page, `service-${service.code}`).tap()
      const form = hook(page, `order-form-${service.code}`)
      await form.waitFor()
      assert.equal(await hook(page, 'type-name').innerText(), service.name)

      // The contact: typed on the first order, remembered for the next ones
      for (const [name, value] of Object.entries(CONTACT)) {
        const field = hook(page, `contact.${name}`)
        if (!remembered) {
          await typeInto(field, value)
        } else {
          await assert.doesNotReject(async () => {
            await page.waitForFunction(([selector, expected]) =>
              document.querySelector(selector)?.value === expected,
            [`[data-test="contact.${name}"] input`, value], { timeout: 10_000 })
          }, `contact.${name} is not pre-filled with ${value}`)
        }
      }

      const expected = { files: [] }
      const attached = { line: [], order: [] }
      for (const field of type.fields) {
        const row = hook(page, `lines[0].${field.name}`)
        if (field.kind === 'str') {
          await typeInto(row, TYPED[field.name])
          expected[field.name] = TYPED[field.name]
        } else if (field.kind === 'int') {
          const before = Number(await valueOf(row))
          await row.locator('.wd-input-number__action').last().tap()
          await page.waitForFunction(([selector, value]) =>
            Number(document.querySelector(selector)?.value) === value,
          [`[data-test="lines[0].${field.name}"] input`, before + 1])
          expected[field.name] = before + 1
        } else if (field.kind === 'datetime') {
          expected[field.name] = await pickTime(page, row)
        } else if (field.kind === 'multiselection') {
          const chosen = [field.choices[0], field.choices[2]]
          for (const choice of chosen) {
            await row.getByText(choice.label.zh_CN, { exact: true }).tap()
          }
          expected[field.name] = chosen.map((choice) => choice.value)
        } else if (field.kind === 'images' || field.kind === 'files') {
          const upload = hook(page, `upload-lines[0].${field.name}`)
          const photo = service.code === PHONE_PHOTO_TYPE ? env.media.phone_photo : env.media.photo
          await pickFiles(page, upload.locator('[data-test="add-photo"]'), [photo])
          attached.line.push(photo)
          if (field.kind === 'files') {
            await pickFiles(page, upload.locator('[data-test="add-document"]'), [env.media.pdf])
            attached.line.push(env.media.pdf)
          }
        }
      }
      // The order's own attachments: a PDF
      const orderFiles = hook(page, 'upload-files')
      await pickFiles(page, orderFiles.locator('[data-test="add-document"]'), [env.media.pdf])
      attached.order.push(env.media.pdf)

      await uploadsDone(page, attached.line.length + attached.order.length)
      await shoot(page, `order-${service.code}-form`, { scroll: true })

      await hook(page, 'submit-order').tap()
      await hook(page, 'done-number').waitFor({ timeout: 30_000 })
      remembered = true
      await assertNoSpinner(page)
      const id = Number(new URL(page.url().replace('#', '')).searchParams.get('id'))
      const number = (await hook(page, 'done-number').innerText()).trim()
      await shoot(page, `order-${service.code}-done`)

      // What the API holds: exactly what was typed, and every file
      const token = await tokenOf(page)
      const order = await must(200, 'GET', `/orders/${id}`, { token })
      assert.ok(number.includes(order.number), `the page shows ${number}, the order is ${order.number}`)
      assert.ok((await hook(page, 'done-name').innerText()).includes(order.name))
      assert.equal(order.type, service.code)
      assert.equal(order.state, 'submitted')
      assert.deepEqual(order.contact, CONTACT)
      assert.equal(order.lines.length, 1)
      const [line] = order.lines
      for (const field of type.fields) {
        if (field.kind === 'images' || field.kind === 'files') continue
        if (expected[field.name] === undefined) {
          assert.ok(!line[field.name], `${field.name}: ${line[field.name]}`)
        } else {
          assert.deepEqual(line[field.name], expected[field.name], field.name)
        }
      }
      assertFiles(line.files ?? [], attached.line, service.code)
      assertFiles(order.files ?? [], attached.order, service.code)
      // One order, not two
      const mine = await must(200, 'GET', '/orders', { token })
      assert.equal(mine.items.filter((item) => item.type === service.code).length, 1)
    })
  }
})

/**
 * The files of the order are those attached, in order: documents as they
 * are, photos as JPEG (the phone photo compressed to at most 600 KB)
 */
function assertFiles(files, attached, code) {
  assert.equal(files.length, attached.length, `${code}: ${JSON.stringify(files)}`)
  for (const [i, path] of attached.entries()) {
    const file = files[i]
    if (path.endsWith('.pdf')) {
      assert.equal(file.mimetype, 'application/pdf')
      assert.equal(file.name, basename(path))
    } else {
      assert.equal(file.mimetype, 'image/jpeg')
      if (path === env.media.phone_photo) {
        assert.ok(file.size <= COMPRESSED_LIMIT,
          `a ${path} photo of 3.8 MB was sent as ${Math.round(file.size / 1024)} KB (at most 600 KB)`)
      }
    }
  }
}

/** Every upload tile shows done (count of them), none failed or stuck */
async function uploadsDone(page, count) {
  const tiles = page.locator('[data-test="upload-tile"]')
  await page.waitForFunction((n) => {
    const all = [...document.querySelectorAll('[data-test="upload-tile"]')]
    return all.length === n && all.every((tile) => tile.classList.contains('is-done'))
  }, count, { timeout: 60_000 }).catch(async () => {
    const classes = await tiles.evaluateAll((all) => all.map((tile) => tile.className))
    assert.fail(`expected ${count} uploaded files, the tiles are ${JSON.stringify(classes)}`)
  })
}

/**
 * Pick an appointment with the time picker: open it, move the day column one
 * day on, confirm; answer the time the field then shows, as ISO 8601 in
 * Shanghai
 */
async function pickTime(page, row) {
  await row.tap()
  const popup = page.locator('.wd-popup').filter({ visible: true }).last()
  await popup.waitFor()
  await page.waitForTimeout(400) // the popup slides in
  // The third column (day): swipe up by one row, as a thumb does
  const column = popup.locator('uni-picker-view-column').nth(2)
  const box = await column.boundingBox()
  const x = box.x + box.width / 2
  const y = box.y + box.height / 2
  const cdp = await page.context().newCDPSession(page)
  const touch = (type, dy) => cdp.send('Input.dispatchTouchEvent', {
    type, touchPoints: type === 'touchEnd' ? [] : [{ x, y: y + dy, id: 1 }],
  })
  await touch('touchStart', 0)
  for (let dy = -5; dy >= -40; dy -= 5) {
    await touch('touchMove', dy)
    await page.waitForTimeout(16)
  }
  await touch('touchEnd', 0)
  await page.waitForTimeout(800) // the column settles on its row
  await shoot(page, 'order-training-time-picker')
  await popup.getByText('完成', { exact: true }).tap()
  await cdp.detach()
  const pattern = /(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?\s+(\d{1,2}):(\d{2})/
  let shown
  for (let tries = 0; !shown && tries < 50; tries += 1) {
    shown = (await row.innerText()).match(pattern)
    if (!shown) await page.waitForTimeout(100)
  }
  assert.ok(shown, `the appointment field shows no time: ${await row.innerText()}`)
  const [, y4, mo, d, h, mi] = shown
  const pad = (v) => String(v).padStart(2, '0')
  return `${y4}-${pad(mo)}-${pad(d)}T${pad(h)}:${mi}:00+08:00`
}
