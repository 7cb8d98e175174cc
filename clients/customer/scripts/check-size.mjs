#!/usr/bin/env node
// WeChat's limits on a mini-program's code: 2 MB for the main package, 2 MB
// for each sub-package, 20 MB in all. Checks dist/build/mp-weixin (run
// after `npm run build:mp-weixin`), prints the sizes, exits 1 above a limit.
//
//   node scripts/check-size.mjs [dist/build/mp-weixin]
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const MB = 1024 * 1024
export const LIMITS = { main: 2 * MB, subPackage: 2 * MB, total: 20 * MB }

/** Bytes of the files under dir, leaving out the folders in skip */
export function sizeOf(dir, skip = []) {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (skip.includes(full)) continue
    total += entry.isDirectory() ? sizeOf(full, skip) : statSync(full).size
  }
  return total
}

export function packageSizes(root) {
  const app = JSON.parse(readFileSync(path.join(root, 'app.json'), 'utf8'))
  const subRoots = (app.subPackages ?? app.subpackages ?? []).map((sub) => path.join(root, sub.root))
  const subPackages = Object.fromEntries(subRoots.map((dir) => [path.relative(root, dir), sizeOf(dir)]))
  return { main: sizeOf(root, subRoots), subPackages, total: sizeOf(root) }
}

function main() {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const root = path.resolve(process.argv[2] ?? path.join(here, '../dist/build/mp-weixin'))
  const sizes = packageSizes(root)
  const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`
  const problems = []
  console.log(`main package   ${kb(sizes.main)} (limit ${kb(LIMITS.main)})`)
  if (sizes.main > LIMITS.main) problems.push('main package')
  for (const [name, size] of Object.entries(sizes.subPackages)) {
    console.log(`sub-package ${name}  ${kb(size)} (limit ${kb(LIMITS.subPackage)})`)
    if (size > LIMITS.subPackage) problems.push(`sub-package ${name}`)
  }
  console.log(`total          ${kb(sizes.total)} (limit ${kb(LIMITS.total)})`)
  if (sizes.total > LIMITS.total) problems.push('total')
  if (problems.length) {
    console.error(`Over WeChat's limit: ${problems.join(', ')}`)
    process.exit(1)
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
