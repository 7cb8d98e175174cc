// A repair order (the longest workflow: visit decision, check-in,
// assessment, quote, work, report) taken through every step in the browser
// by an engineer, the customer answering through the API; after each step
// the API shows the customer the record with what was entered.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CONTACT, POSITION, addFiles, checkInHere, customerAnswers, customerToken, env, formOf, hook,
  loginEngineer, newPhone, newPhoneNumber, pageText, pickDateTime, placeOrder, recordOf, rowOf,
  shoot, typeInto, waitForOrder, waitForPage, waitForTiles,
} from './harness.mjs'

/** Submit a form and wait until the API shows its record; answers the order */
async function submit(page, customer, orderId, action) {
  await hook(page, `submit-${action}`).tap()
  return waitForOrder(customer, orderId, (order) => recordOf(order, action), { what: action })
}

test('a repair order through every step: accept, visit, check-in and photos, quote, report with a PDF, confirmations and rating', async () => {
  const customer = await customerToken(newPhoneNumber())
  const { context, page } = await newPhone({ geolocation: POSITION, permissions: ['geolocation'] })
  try {
    await loginEngineer(page, 0)
    const placed = await placeOrder(customer, 'repair')
    const offer = hook(page, `offer-${placed.id}`)
    await offer.waitFor()
    await offer.locator('[data-test="offer-accept"]').tap()
    await waitForPage(page, 'task/detail/index')
    let order = await waitForOrder(customer, placed.id, (o) => o.progress.current_step === 'accepted')
    assert.equal(order.state, 'in_progress')
    // Now the engineer's: the customer, to call, and where to go
    const customerCard = await hook(page, 'customer').innerText()
    for (const value of [CONTACT.name, CONTACT.company, CONTACT.phone, CONTACT.address]) {
      assert.ok(customerCard.includes(value), `the task shows ${value}`)
    }

    // 判断是否需要上门: on site, at the earliest time the form allows
    const visit = formOf(page, 'visit_onsite')
    await visit.waitFor()
    assert.ok(await hook(page, 'action-choice').isVisible(), 'on site or remote is a choice')
    const picked = await pickDateTime(page, rowOf(visit, 'appointment'))
    assert.match(picked, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/, 'the time picked is shown')
    await typeInto(rowOf(visit, 'description'), '周五上午上门检修')
    await shoot(page, 'task-visit-form')
    order = await submit(page, customer, placed.id, 'visit_onsite')
    let record = recordOf(order, 'visit_onsite')
    assert.equal(record.description, '周五上午上门检修')
    assert.ok(record.appointment, 'the appointment is recorded')
    assert.equal(order.progress.current_step, 'visit')
    assert.match(order.progress.steps.find((s) => s.code === 'visit').hint, /^等待上门：已约定上门时间为\d{4}年\d{1,2}月\d{1,2}日\d{1,2}:\d{2}/)

    // 检修完成: the assessment with the check-in and two photos (one of 4 MB)
    const assessment = formOf(page, 'submit_assessment')
    await assessment.waitFor()
    await typeInto(rowOf(assessment, 'description'), '泵密封圈老化，压力波动')
    await checkInHere(rowOf(assessment, 'check_in'))
    const position = await rowOf(assessment, 'check_in').innerText()
    assert.ok(position.includes('31.203500') && position.includes('WGS-84'), position)
    await addFiles(page, rowOf(assessment, 'photos'), [env.media.photo, env.media.phone_photo])
    await waitForTiles(rowOf(assessment, 'photos'), 2, 'sent')
    await shoot(page, 'task-assessment-form', { scroll: true })
    order = await submit(page, customer, placed.id, 'submit_assessment')
    record = recordOf(order, 'submit_assessment')
    assert.equal(record.description, '泵密封圈老化，压力波动')
    assert.equal(record.photos.length, 2)
    // The phone photo was made small before it left (≤ 600 KB)
    assert.ok(record.photos.every((photo) => photo.size <= 600 * 1024), JSON.stringify(record.photos))
    assert.equal(record.check_in.latitude, POSITION.latitude)
    assert.equal(record.check_in.longitude, POSITION.longitude)
    assert.equal(record.check_in.accuracy, POSITION.accuracy)
    assert.equal(record.check_in.coordinate_system, 'wgs84')

    // 维修方案和报价: a plan with a photo and a PDF, and the price
    const quote = formOf(page, 'submit_quote')
    await quote.waitFor()
    await typeInto(rowOf(quote, 'amount'), '1280.50')
    await typeInto(rowOf(quote, 'description'), '更换泵密封圈并校准')
    await addFiles(page, rowOf(quote, 'photos'), [env.media.png])
    await addFiles(page, rowOf(quote, 'files'), [env.media.pdf], { documents: true })
    await waitForTiles(rowOf(quote, 'photos'), 1, 'sent')
    await waitForTiles(rowOf(quote, 'files'), 1, 'sent')
    await shoot(page, 'task-quote-form', { scroll: true })
    order = await submit(page, customer, placed.id, 'submit_quote')
    record = recordOf(order, 'submit_quote')
    assert.equal(record.description, '更换泵密封圈并校准')
    assert.equal(record.photos.length, 1)
    assert.deepEqual(record.files.map((file) => file.name), ['设备清单.pdf'])
    assert.equal(order.progress.quote.amount, '1280.50')
    assert.equal(order.progress.quote.plan, '更换泵密封圈并校准')
    assert.match(order.progress.steps.find((s) => s.code === 'quote').hint, /维修报价：1280\.50元/)
    // Nothing for the engineer to do while the customer decides
    await hook(page, 'no-action').waitFor()

    // The customer confirms the quote: the task goes on by itself (the notice)
    await customerAnswers(customer, order, 'confirm_quote')
    const report = formOf(page, 'submit_report')
    await report.waitFor()
    await typeInto(rowOf(report, 'report'), '已更换密封圈，压力稳定，基线正常')
    await addFiles(page, rowOf(report, 'photos'), [env.media.photo])
    await addFiles(page, rowOf(report, 'files'), [env.media.pdf], { documents: true })
    await waitForTiles(rowOf(report, 'photos'), 1, 'sent')
    await waitForTiles(rowOf(report, 'files'), 1, 'sent')
    await shoot(page, 'task-report-form', { scroll: true })
    order = await submit(page, customer, placed.id, 'submit_report')
    record = recordOf(order, 'submit_report')
    assert.equal(order.progress.current_step, 'report')
    assert.equal(order.progress.report.content, '已更换密封圈，压力稳定，基线正常')
    assert.equal(record.report.content, '已更换密封圈，压力稳定，基线正常')
    assert.equal(record.photos.length, 1)
    assert.deepEqual(record.files.map((file) => file.name), ['设备清单.pdf'])

    // The customer confirms the report and rates the service
    await customerAnswers(customer, order, 'confirm_report')
    order = await waitForOrder(customer, placed.id, (o) => o.progress.current_step === 'rating')
    await customerAnswers(customer, order, 'rate', { attitude: 5, quality: 5, overall: 4, comment: '工程师很专业' })
    order = await waitForOrder(customer, placed.id, (o) => o.progress.current_step === 'done')
    assert.equal(order.state, 'done')
    assert.deepEqual([order.progress.rating.attitude, order.progress.rating.quality, order.progress.rating.overall], [5, 5, 4])
    // The engineer's page follows: finished, the progress at its end
    await hook(page, 'finished').waitFor()
    assert.ok((await pageText(page)).includes('订单已完成'))
    await shoot(page, 'task-done')
    assert.deepEqual(page.errors, [])
  } catch (error) {
    await shoot(page, 'failed-lifecycle', { scroll: true })
    throw error
  } finally {
    await context.close()
  }
})
