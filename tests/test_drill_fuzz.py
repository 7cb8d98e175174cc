"""The fuzzing drill at CI size, on the backend of the test run.

Runs `bench/drills/fuzz.py --quick` (schemathesis against
/api/v1/openapi.json, as a customer, an engineer and without a token, 20
generated cases per operation and the examples and coverage phases) on a
fresh database of TRYTOND_DATABASE__URI, the backend scripts/run_tests.py
is testing. The drill exits 1 when anything was lost (a 5xx, a response that
breaks the document, an operation never tested, a traceback in the server
log); this test also reads its total line, so that a drill that silently
tested nothing fails too.
"""
import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRILL = ROOT / 'bench' / 'drills' / 'fuzz.py'
TOTAL = re.compile(r'^fuzz: (\d+) operation runs, (\d+) requests, '
    r'(\d+) failing cases, (\d+) 5xx, (\d+) traceback', re.M)
# The document has 32 operations; each is run by the callers it admits
MIN_OPERATION_RUNS = 32
# --quick sends about 3,200 requests; far fewer means the drill broke
MIN_REQUESTS = 1500


class FuzzDrillTestCase(unittest.TestCase):

    def test_fuzz_quick(self):
        env = {k: v for k, v in os.environ.items()
            if k not in {'DB_NAME', 'DB_CACHE'}}
        result = subprocess.run(
            [sys.executable, str(DRILL), '--quick'], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=20 * 60)
        output = result.stdout + result.stderr
        # What the drill tried and found, in the test log
        print(output[-3000:])
        self.assertEqual(result.returncode, 0, output[-20000:])
        match = TOTAL.search(result.stdout)
        self.assertIsNotNone(match, output[-5000:])
        operations, requests, failing, errors, tracebacks = map(
            int, match.groups())
        self.assertGreaterEqual(operations, MIN_OPERATION_RUNS)
        self.assertGreaterEqual(requests, MIN_REQUESTS)
        self.assertEqual((failing, errors, tracebacks), (0, 0, 0))


if __name__ == '__main__':
    unittest.main()
