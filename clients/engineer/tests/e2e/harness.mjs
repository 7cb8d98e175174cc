// Sets up, once per process, what every browser test of the engineer H5 app
// shares (the customer tests' suite(): lib.mjs's env): the H5 build (`npm run
// build:h5 -w engineer` into a folder of its own; ENGINEER_H5_DIR names a
// build to use instead), a real trytond on a fresh SQLite database serving it
// at /engineer/ with two engineers (tests/apps/serve.py), the files to attach
// (tests/apps/media.py) and Debian's chromium; then stops them. Tests import
// their helpers from here.
import { ENGINEER_OUTPUT, suite } from './lib.mjs'

export * from './lib.mjs'

suite({ app: 'engineer', h5Dir: process.env.ENGINEER_H5_DIR, output: ENGINEER_OUTPUT, engineers: 2 })
