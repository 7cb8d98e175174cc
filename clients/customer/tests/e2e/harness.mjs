// Sets up, once per process, what every browser test of the customer H5 app
// shares (lib.mjs's env and suite()): the H5 build (`npm run build:h5 -w
// customer` into a folder of its own; CUSTOMER_H5_DIR names a build to use
// instead), a real trytond on a fresh SQLite database serving it at /h5/
// (tests/apps/serve.py), the files to attach (tests/apps/media.py) and
// Debian's chromium; then stops them. Tests import their helpers from here.
import { suite } from './lib.mjs'

export * from './lib.mjs'

suite({ app: 'customer', h5Dir: process.env.CUSTOMER_H5_DIR })
