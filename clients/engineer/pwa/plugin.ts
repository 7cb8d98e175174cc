// The H5 build made installable: the web manifest and the service worker
// (pwa/sw.js, with the list of this build's files to keep) written beside
// index.html. Other platforms get neither.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Plugin } from 'vite'

const HERE = __dirname

function filesUnder(root: string, dir = root): string[] {
  let found: string[] = []
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry)
    if (statSync(full).isDirectory()) found = found.concat(filesUnder(root, full))
    else found.push(path.relative(root, full).split(path.sep).join('/'))
  }
  return found
}

export function pwa(): Plugin {
  return {
    name: 'engineer-pwa',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      if (process.env.UNI_PLATFORM !== 'h5') return
      const input = process.env.UNI_INPUT_DIR || process.cwd()
      const built = Object.keys(bundle).filter((name) => !name.endsWith('.map') && name !== 'index.html')
      const statics = filesUnder(path.join(input, 'static')).map((name) => 'static/' + name)
      // './' is the page itself (index.html), as the browser asks for it
      const shell = ['./', ...built, ...statics, 'manifest.webmanifest'].sort()
      const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 12)
      const worker = readFileSync(path.join(HERE, 'sw.js'), 'utf8')
        .replace('__VERSION__', version)
        .replace('__SHELL__', JSON.stringify(shell, null, 2))
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: worker })
      this.emitFile({
        type: 'asset',
        fileName: 'manifest.webmanifest',
        source: readFileSync(path.join(HERE, 'manifest.json'), 'utf8'),
      })
    },
  }
}
