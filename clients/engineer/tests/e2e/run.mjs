// The browser tests of the engineer H5 app, in one process sharing one
// server (two engineers) and one browser (harness.mjs):
//
//   node --test-reporter=spec clients/engineer/tests/e2e/run.mjs
//
// (what `make test` runs, from scripts/run_tests.py's apps stage; about 3
// minutes on 2 cores). A single file runs alone the same way: node
// clients/engineer/tests/e2e/offline.e2e.mjs. ENGINEER_H5_DIR=DIR uses a
// build as it is instead of building one. Screenshots: test-output/engineer/.
import './inbox.e2e.mjs'
import './lifecycle.e2e.mjs'
import './offline.e2e.mjs'
import './screens.e2e.mjs'
