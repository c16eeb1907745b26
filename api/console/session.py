"""Console sessions: a signed cookie that names the person's API key, and the CSRF token its writes carry.

A person signs in with their personal API key (``vocmine keys create --name "Ana Ruiz" --scope review``);
the console then keeps a cookie ``v1.<key id>.<expires>.<nonce>.<signature>``. The signature is an
HMAC keyed by the key's stored secret hash (and ``VOCMINE_CONSOLE_SECRET`` when set), so:

* every worker process of the server checks it without shared memory or a sessions table;
* revoking the key ends its sessions at the next request;
* the cookie never holds the key itself, and expires (``VOCMINE_CONSOLE_SESSION_HOURS``).

The CSRF token is an HMAC of the session's nonce under the same key: a page that can read it is a
page the server rendered for this session. Writes carry it in a form field or ``X-CSRF-Token``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from vocmine.schema import ApiKey
from vocmine.settings import Settings
from vocmine.store.protocol import KeyStore

COOKIE = "vocmine_session"
_VERSION = "v1"


@dataclass(frozen=True)
class Session:
    key: ApiKey
    expires: int  # seconds since 1970
    csrf: str


def _signing_key(secret_hash: str, settings: Settings) -> bytes:
    return hashlib.sha256(f"{settings.console_secret or ''}|{secret_hash}".encode()).digest()


def _mac(signing_key: bytes, message: str) -> str:
    return hmac.new(signing_key, message.encode(), hashlib.sha256).hexdigest()


def issue(store: KeyStore, key: ApiKey, settings: Settings, now: float | None = None) -> tuple[str, Session]:
    """A new session cookie for ``key`` (already verified by the caller) and the session it opens."""
    found = store.find_api_key(key.id)
    if found is None:
        raise LookupError(f"no API key {key.id!r}")
    expires = int((now or time.time()) + settings.console_session_hours * 3600)
    nonce = secrets.token_urlsafe(16)
    payload = f"{_VERSION}.{key.id}.{expires}.{nonce}"
    signing_key = _signing_key(found[1], settings)
    return f"{payload}.{_mac(signing_key, payload)}", Session(key, expires, _mac(signing_key, f"csrf|{nonce}"))


def read(store: KeyStore, cookie: str | None, settings: Settings, now: float | None = None) -> Session | None:
    """The session a cookie opens, or None when it is missing, malformed, forged, expired or its key is revoked."""
    parts = (cookie or "").split(".")
    if len(parts) != 5 or parts[0] != _VERSION or not parts[2].isdigit():
        return None
    _, key_id, expires, nonce, signature = parts
    found = store.find_api_key(key_id)
    if found is None:
        return None
    key, secret_hash = found
    signing_key = _signing_key(secret_hash, settings)
    payload = f"{_VERSION}.{key_id}.{expires}.{nonce}"
    if not hmac.compare_digest(_mac(signing_key, payload), signature):
        return None
    if key.revoked_at is not None or int(expires) <= (now or time.time()):
        return None
    return Session(key, int(expires), _mac(signing_key, f"csrf|{nonce}"))
