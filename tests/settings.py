"""Settings for the test suite: the project's own, with a fast password hasher.

Django's default PBKDF2 hasher spends ~0.3 s per test user; most of the suite's
time went there. MD5 is fine for throwaway test users and nowhere else.
"""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests change days under the same ids within one process (and SQLite reuses ids after a rollback), so the
# guardrails' figures are summed afresh for every decision; tests/test_guardrail_figures.py turns the reuse on.
WAYPOINT_GUARDRAIL_FIGURES_SECONDS = 0
