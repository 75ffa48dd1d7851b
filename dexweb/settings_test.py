"""Settings for the test suite: production-shaped, minus what only makes tests slow.

Everything comes from dexweb.settings (so tests check the real configuration); only the
password hasher changes. PBKDF2 with 1,000,000 iterations costs ~0.3 s per login or user
created, half of the suite's time; MD5 is fine for throwaway test passwords and never used
outside tests.
"""

from dexweb.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# One cache per pytest-xdist worker: the suite clears the cache around every test (rate limits,
# used TOTP codes), and a clear in one worker must not wipe a limit another worker's test is
# counting. Processes a test starts inherit PYTEST_XDIST_WORKER, so they share their test's cache.
import os  # noqa: E402

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER and CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405
    CACHES["default"]["LOCATION"] = f"{CACHES['default']['LOCATION'].rstrip('/')}-{_WORKER}"  # noqa: F405
