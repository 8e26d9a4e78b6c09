"""Test overlay on the one env-driven settings module."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from assistant.settings import *  # noqa: F403

MEDIA_ROOT = KEEL_HOME / "test-media"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
