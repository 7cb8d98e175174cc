# Cross-module and end-to-end tests of the platform, run by
# scripts/run_tests.py (python -m unittest discover -s tests -t .).
