"""
Runs the client's tests (unittest) with the package from src/, and prints the totals last, as
``python: N passed, N failed, N skipped``, for the repository's CI to count. Exits 1 if any failed.
"""
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / 'src'))

suite = unittest.defaultTestLoader.discover(str(HERE / 'tests'), top_level_dir=str(HERE))
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped - len(result.expectedFailures)
print(f'python: {passed} passed, {failed} failed, {skipped} skipped')
sys.exit(0 if failed == 0 else 1)
