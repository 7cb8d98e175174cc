// The browser tests of the customer H5 app, in one process sharing one
// server and one browser (harness.mjs):
//
//   node --test-reporter=spec clients/customer/tests/e2e/run.mjs
//
// (what `make test` runs, from scripts/run_tests.py's apps stage). A single
// file runs alone the same way: node clients/customer/tests/e2e/screens.e2e.mjs
import './screens.e2e.mjs'
import './order-types.e2e.mjs'
import './lifecycle.e2e.mjs'
import './bad-input.e2e.mjs'
