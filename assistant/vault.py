"""Sealing personal data at rest (Fernet: AES-128-CBC with an HMAC, from `cryptography`).

The key is `KEEL_VAULT_KEY` (a Fernet key); without it, one is derived from SECRET_KEY,
so rotating SECRET_KEY makes older vault entries unreadable (they expire anyway).
"""

import base64
from functools import cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@cache
def _fernet() -> Fernet:
    if settings.KEEL_VAULT_KEY:
        return Fernet(settings.KEEL_VAULT_KEY)
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"keel personal data vault"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def vault_seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def vault_open(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()
