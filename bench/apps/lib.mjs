// What the apps' benchmarks share (bench.mjs: the customer app, engineer.mjs:
// the engineer app): the emulated mid-range phone (4x CPU slow-down, "Fast
// 4G"), the first load's network bookkeeping, the JavaScript's size, the
// machine's description and the figures' table rows.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { PHONE } from '../../clients/customer/tests/e2e/lib.mjs'

// DevTools' "Fast 4G" (front_end/core/sdk/NetworkManager.ts): 9 Mbps down,
// 1.5 Mbps up at 90 %, 60 ms x 2.75 latency
export const FAST_4G = {
  offline: false,
  latency: 165,
  downloadThroughput: (9 * 1000 * 1000) / 8 * 0.9,
  uploadThroughput: (1.5 * 1000 * 1000) / 8 * 0.9,
}
export const CPU_SLOWDOWN = 4

/**
 * A new browser context as a mid-range phone (empty cache, storageState
 * kept): CPU slowed down, Fast 4G. Answers { context, page, cdp, responses,
 * navigationAt(), firstLoadDone() }: responses (request id -> {type, url,
 * encoding, bytes, finished}) of the first load, until firstLoadDone();
 * navigationAt() when the document was asked for (the protocol's clock, s)
 */
export async function slowPhone(browser, storageState, options = {}) {
  const context = await browser.newContext({ ...PHONE, storageState, ...options })
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN })
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', FAST_4G)
  const responses = new Map()
  let firstLoad = true
  let navigationAt
  cdp.on('Network.requestWillBeSent', ({ type, timestamp }) => {
    if (type === 'Document' && navigationAt === undefined) navigationAt = timestamp
  })
  cdp.on('Network.responseReceived', ({ requestId, type, response }) => {
    if (firstLoad) responses.set(requestId, { type, url: response.url, encoding: response.headers['content-encoding'] || response.headers['Content-Encoding'] })
  })
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength, timestamp }) => {
    const response = responses.get(requestId)
    if (response) Object.assign(response, { bytes: encodedDataLength, finished: timestamp })
  })
  return {
    context, page, cdp, responses,
    navigationAt: () => navigationAt,
    firstLoadDone: () => { firstLoad = false },
  }
}

/** The scripts' bytes on the wire, and gzip -9 of their files in h5Dir
 * (served under prefix, e.g. /h5/) */
export function scriptSizes(scripts, h5Dir, prefix) {
  const wire = scripts.reduce((sum, s) => sum + (s.bytes || 0), 0)
  const compressed = scripts.every((s) => s.encoding)
  let gzip9 = 0
  let plain = 0
  for (const script of scripts) {
    const file = path.join(h5Dir, decodeURIComponent(new URL(script.url).pathname).slice(prefix.length))
    const content = readFileSync(file)
    plain += content.length
    gzip9 += gzipSync(content, { level: 9 }).length
  }
  return { wire, gzip9, plain, compressed, files: scripts.length }
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function machine() {
  const cpus = os.cpus()
  let chromium = ''
  try {
    chromium = execFileSync('/usr/bin/chromium', ['--version'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]
  } catch { /* described as unknown */ }
  return [
    `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} logical cores, `
      + `${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, load average ${os.loadavg()[0].toFixed(2)}`,
    `${os.type()} ${os.release()}; node ${process.version}; ${chromium.trim() || 'chromium ?'}`,
  ]
}

export const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`
export const ms = (value) => `${Math.round(value)} ms`

/** A row of the figures' table: median, range, aim (met or missed) */
export function row(name, values, aim) {
  const m = median(values)
  return `| ${name} | ${ms(m)} | ${ms(Math.min(...values))} – ${ms(Math.max(...values))} | `
    + `${aim ? `≤ ${ms(aim)} ${m <= aim ? '(met)' : '(missed)'}` : ''} |`
}

/** The conditions of the runs, for the results */
export function conditions() {
  return `chromium headless, ${PHONE.viewport.width}×${PHONE.viewport.height} at ${PHONE.deviceScaleFactor}x, `
    + `touch; CPU slowed down ${CPU_SLOWDOWN}× (\`Emulation.setCPUThrottlingRate\`); "Fast 4G" `
    + `(\`Network.emulateNetworkConditions\`: ${FAST_4G.latency} ms latency, `
    + `${(FAST_4G.downloadThroughput * 8 / 1e6).toFixed(2)} Mbit/s down, `
    + `${(FAST_4G.uploadThroughput * 8 / 1e6).toFixed(2)} Mbit/s up)`
}

/**
 * The table's row of the JavaScript of the first load and the note under
 * the table: the bytes on the wire as trytond sent them (it gzips the text
 * files for a browser that takes gzip)
 */
export function javascriptLines(js, aim) {
  return [
    `| JavaScript on the first load, gzipped (${js.files} files) | ${kb(js.wire)} | | `
      + `≤ ${kb(aim)} ${js.wire <= aim ? '(met)' : '(missed)'} |`,
    '',
    `The figure is the scripts' bytes on the wire as trytond sent them (gzip for text files when the browser takes it; `
      + `${js.compressed ? 'all' : 'not all'} compressed): ${kb(js.plain)} uncompressed, gzip -9 of the same files ${kb(js.gzip9)}.`,
    '',
  ]
}

/** Print the results, and write them into file unless write is false */
export function publish(lines, file, write) {
  const text = lines.join('\n')
  console.log('\n' + text)
  if (write) {
    writeFileSync(file, text)
    console.log(`written to ${path.relative(process.cwd(), file)}`)
  }
}
