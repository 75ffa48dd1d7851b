"""Settings for the test suite: production-shaped, minus what only makes tests slow.

Everything comes from dexweb.settings (so tests check the real configuration); only the
password hasher changes. PBKDF2 with 1,000,000 iterations costs ~0.3 s per login or user
created, half of the suite's time; MD5 is fine for throwaway test passwords and never used
outside tests.
"""

from dexweb.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
