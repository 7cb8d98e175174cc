// Offline drill: halfway through a repair the phone loses the network; the
// engineer submits two steps with photos (the second one's form predicted
// from the workflow), reloads the app while still offline (the service
// worker opens it, the outbox in IndexedDB keeps everything), then the
// network comes back: both steps arrive once, in order, with every photo.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import {
  POSITION, addFiles, checkIn, checkInHere, customerToken, engineerStep, engineerToken,
  engineerUrl, env, formOf, hook, loginEngineer, must, newPhone, newPhoneNumber, orderOf, pickDateTime, placeOrder, recordsOf, rowOf, shoot, typeInto,
  upload, waitForOrder, waitForPage, waitForTiles,
} from './harness.mjs'

/** A repair of the customer taken by engineer 0 through the API up to the
 * quote (the engineer's to write) */
async function assessedRepair(customer) {
  const engineer = await engineerToken(0)
  const order = await placeOrder(customer, 'repair', { index: 1 })
  await must(200, 'POST', `/engineer/inbox/${order.id}/accept`, {
    token: engineer, headers: { 'Idempotency-Key': randomUUID() },
  })
  await engineerStep(engineer, order.id, 'visit_onsite', { appointment: new Date(Date.now() + 86400e3).toISOString() })
  const photo = await upload(`/engineer/tasks/${order.id}/files`, env.media.photo, engineer)
  await engineerStep(engineer, order.id, 'submit_assessment', { description: '评估', photos: [photo.id], check_in: checkIn() })
  return order.id
}

test('offline halfway: two steps with photos kept through a reload, sent once and in order when back online', async () => {
  const customer = await customerToken(newPhoneNumber())
  const { context, page } = await newPhone({ geolocation: POSITION, permissions: ['geolocation'] })
  try {
    await loginEngineer(page, 0)
    // The phone has seen a repair at the quote already (another task, opened
    // once): it knows the quote's form comes after the assessment
    const known = await assessedRepair(customer)
    await page.goto(engineerUrl(`task/detail/index?id=${known}`))
    await formOf(page, 'submit_quote').waitFor()
    await page.goto(engineerUrl('pages/inbox/index'))
    await waitForPage(page, 'pages/inbox/index')

    const placed = await placeOrder(customer, 'repair')
    const offer = hook(page, `offer-${placed.id}`)
    await offer.waitFor()
    await offer.locator('[data-test="offer-accept"]').tap()
    await waitForPage(page, 'task/detail/index')
    // Online: the visit is decided
    const visit = formOf(page, 'visit_onsite')
    await visit.waitFor()
    await pickDateTime(page, rowOf(visit, 'appointment'))
    await hook(page, 'submit-visit_onsite').tap()
    await waitForOrder(customer, placed.id, (o) => o.progress.current_step === 'visit')
    const assessment = formOf(page, 'submit_assessment')
    await assessment.waitFor()
    // The service worker has kept the app for a reload without network
    await page.waitForFunction(() => navigator.serviceWorker?.controller
      || navigator.serviceWorker?.ready.then(() => true), null, { timeout: 15_000 })

    // The basement: no network
    await context.setOffline(true)
    await typeInto(rowOf(assessment, 'description'), '离线评估：泵密封圈老化')
    await checkInHere(rowOf(assessment, 'check_in'))
    await addFiles(page, rowOf(assessment, 'photos'), [env.media.photo, env.media.phone_photo])
    await waitForTiles(rowOf(assessment, 'photos'), 2, 'pending')
    await hook(page, 'submit-submit_assessment').tap()
    await hook(page, 'outbox-pending').first().waitFor()
    // The next step's form, as the workflow goes on, filled in ahead
    const quote = formOf(page, 'submit_quote')
    await quote.waitFor()
    await hook(page, 'predicted').waitFor()
    await typeInto(rowOf(quote, 'amount'), '860')
    await typeInto(rowOf(quote, 'description'), '离线报价：更换密封圈')
    await addFiles(page, rowOf(quote, 'photos'), [env.media.png])
    await waitForTiles(rowOf(quote, 'photos'), 1, 'pending')
    await hook(page, 'submit-submit_quote').tap()
    await page.locator('[data-test="outbox-pending"]').nth(1).waitFor()
    await shoot(page, 'task-offline-outbox')
    // Nothing reached the server
    let order = await orderOf(customer, placed.id)
    assert.equal(order.progress.current_step, 'visit')

    // The app is closed and opened again, still without network
    await page.reload()
    await waitForPage(page, 'task/detail/index')
    await hook(page, 'outbox-panel').waitFor()
    assert.equal(await hook(page, 'outbox-pending').count(), 2, 'both steps still wait after the reload')
    assert.ok((await hook(page, 'outbox-panel').innerText()).includes('0/3'), 'the three photos wait too')
    await shoot(page, 'task-offline-reloaded')

    // Back online: sent by themselves, in order
    await context.setOffline(false)
    order = await waitForOrder(customer, placed.id, (o) => o.progress.current_step === 'quote',
      { timeout: 60_000, what: 'the steps sent after the network came back' })
    const records = recordsOf(order).filter((record) => record.actor_role === 'engineer')
    assert.deepEqual(records.map((record) => record.action), ['accept', 'visit_onsite', 'submit_assessment', 'submit_quote'])
    const [, , assessed, quoted] = records
    assert.ok(assessed.id < quoted.id, 'the assessment before the quote')
    assert.equal(assessed.description, '离线评估：泵密封圈老化')
    assert.equal(assessed.photos.length, 2)
    assert.equal(assessed.check_in.latitude, POSITION.latitude)
    assert.equal(quoted.description, '离线报价：更换密封圈')
    assert.equal(quoted.photos.length, 1)
    assert.equal(order.progress.quote.amount, '860.00')
    // The page shows nothing waiting any more
    await hook(page, 'outbox-panel').waitFor({ state: 'detached', timeout: 30_000 })
    // Once: a while later the history has not grown
    await page.waitForTimeout(2000)
    order = await orderOf(customer, placed.id)
    assert.deepEqual(recordsOf(order).map((record) => record.action),
      ['accept', 'visit_onsite', 'submit_assessment', 'submit_quote'])
  } catch (error) {
    await shoot(page, 'failed-offline', { scroll: true })
    throw error
  } finally {
    await context.close()
  }
})
