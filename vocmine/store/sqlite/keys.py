"""API keys in the embedded store (migration 5): id, name, scopes and a hash of the secret; never
the secret itself. Mixed into ``SQLiteStore``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vocmine.errors import NotFoundError
from vocmine.schema import ApiKey, utcnow

if TYPE_CHECKING:
    from vocmine.store.sqlite.host import SQLiteHost as _Host
else:
    _Host = object


class SQLiteKeysMixin(_Host):
    def add_api_key(self, key: ApiKey, secret_hash: str) -> None:
        with self._lock:
            self.conn.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                (key.id, key.name, secret_hash, ",".join(key.scopes), key.created_at.isoformat()),
            )

    def find_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        """The key and its secret hash, or None (revoked keys are returned; the caller refuses them)."""
        with self._reading() as conn:  # every API request: never queue behind a write
            row = conn.execute(
                "SELECT id, name, secret_hash, scopes, created_at, revoked_at FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
        return (_key(row), row[2]) if row else None

    def list_api_keys(self) -> list[ApiKey]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT id, name, secret_hash, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at"
            ).fetchall()
        return [_key(r) for r in rows]

    def revoke_api_key(self, key_id: str) -> ApiKey:
        with self._lock:
            updated = self.conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (utcnow().isoformat(), key_id)
            ).rowcount
        found = self.find_api_key(key_id)
        if found is None:
            raise NotFoundError(f"no API key {key_id!r}", hint="list the ids with `vocmine keys list`")
        if not updated and found[0].revoked_at is None:
            raise NotFoundError(f"API key {key_id!r} could not be revoked")
        return found[0]


def _key(row: tuple) -> ApiKey:  # type: ignore[type-arg]
    return ApiKey(
        id=row[0], name=row[1], scopes=[s for s in row[3].split(",") if s], created_at=row[4], revoked_at=row[5]
    )
