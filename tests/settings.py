"""Settings for the test suite: the project's own, with a fast password hasher.

Django's default PBKDF2 hasher spends ~0.3 s per test user; most of the suite's
time went there. MD5 is fine for throwaway test users and nowhere else.
"""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
