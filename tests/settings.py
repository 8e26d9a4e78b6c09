"""Test overlay on the one env-driven settings module."""

import os
import tempfile
from pathlib import Path

# Long enough for the production rule (tests run with DEBUG off); for tests only.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "k3el" * 10)
# Uploaded files of a test process live apart from the demo's and from the other test
# processes' (pytest-xdist's workers inherit the first process's environment: a test that
# lists stored files saw the other worker's uploads); the Keel processes a test starts
# (daphne, the worker) inherit its folder.
os.environ["MEDIA_ROOT"] = os.environ.setdefault(
    "KEEL_TEST_MEDIA_ROOT_" + os.environ.get("PYTEST_XDIST_WORKER", "main"),
    tempfile.mkdtemp(prefix="keel-test-media-"),
)
# The tests' own embedded PostgreSQL, apart from the one `make run` serves from (even
# when KEEL_HOME or KEEL_DATABASE_DIR point elsewhere): a test run stops and starts it.
os.environ["KEEL_DATABASE_DIR"] = str(
    Path(__file__).resolve().parent.parent / ".keel" / "test-pgdata"
)

from assistant.project.settings import *  # noqa: F403

KEEL_MODEL_CALLS_CHECKED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="keel-test-static-"))
WHITENOISE_USE_FINDERS = True
