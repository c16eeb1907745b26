"""API keys: ``vm_<id>_<secret>``. The id finds the key; only a SHA-256 hash of the secret is
stored (the secret is 32 random bytes, so a fast hash is enough: there is nothing to brute-force
that a slow one would protect), and the presented secret's hash is compared in constant time.
Scopes: read, ingest, review, admin; admin implies the other three."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from vocmine.errors import ConfigError
from vocmine.schema import ApiKey, utcnow
from vocmine.store.protocol import KeyStore

SCOPES = ("read", "ingest", "review", "admin")
_TOKEN = re.compile(r"vm_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(store: KeyStore, name: str, scopes: Sequence[str]) -> tuple[ApiKey, str]:
    """A new key and its token; the token is shown once and cannot be recovered."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ConfigError(f"unknown or missing scopes {unknown}", hint=f"choose from {', '.join(SCOPES)}")
    if not name.strip():
        raise ConfigError("an API key needs a name", hint="say who or what uses it, e.g. --name dashboard")
    key = ApiKey(id=secrets.token_hex(6), name=name.strip(), scopes=sorted(set(scopes)), created_at=utcnow())
    secret = secrets.token_urlsafe(32)
    store.add_api_key(key, _hash(secret))
    return key, f"vm_{key.id}_{secret}"


def verify_token(store: KeyStore, token: str) -> ApiKey | None:
    """The key a token belongs to, or None when it is malformed, unknown, revoked or wrong."""
    match = _TOKEN.fullmatch(token.strip())
    if not match:
        return None
    found = store.find_api_key(match.group(1))
    if found is None:
        # Hash anyway, so an unknown id takes as long as a wrong secret.
        hmac.compare_digest(_hash(match.group(2)), "0" * 64)
        return None
    key, secret_hash = found
    if not hmac.compare_digest(_hash(match.group(2)), secret_hash) or key.revoked_at is not None:
        return None
    return key


def allows(key: ApiKey, scope: str) -> bool:
    return scope in key.scopes or "admin" in key.scopes
