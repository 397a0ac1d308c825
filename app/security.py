"""Secrets: the server key, receipt codes and the respondent's view/withdraw secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path

from app.config import get_settings

# Crockford's base32 without I, L, O, U: easy to read out over the phone.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@lru_cache
def server_key() -> bytes:
    """CONSULT_SECRET_KEY, or a key generated once and kept in the data directory.

    Several API replicas must share CONSULT_SECRET_KEY (sessions and receipt links).
    """
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


# Standard base32 digits -> the receipt alphabet (both 32 symbols, one to one).
_TO_RECEIPT_ALPHABET = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", RECEIPT_ALPHABET)


def new_receipt_code() -> str:
    """12 characters (60 random bits) shown as XXXX-XXXX-XXXX.

    One read of the system's randomness (not one per character): the first 12 base32
    digits of 8 random bytes are 60 uniform bits, mapped onto the receipt alphabet."""
    raw = base64.b32encode(secrets.token_bytes(8)).decode()[:12].translate(_TO_RECEIPT_ALPHABET)
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_receipt_code(code: str) -> str:
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}" if len(cleaned) == 12 else code


def response_secret(receipt_code: str) -> str:
    """Derived, not stored: a retried submission can return the same link."""
    digest = hmac.new(server_key(), b"response:" + receipt_code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def check_response_secret(receipt_code: str, secret: str) -> bool:
    return hmac.compare_digest(response_secret(receipt_code), secret.strip())
