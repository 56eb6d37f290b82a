"""The app's settings: a key/value table with JSON values, inside the conversation database.

Values are whatever `json.dumps` accepts (no NaN). Reshaping a stored setting (a renamed key,
a changed unit) is a schema migration step in `schema.py`, run when an older file opens.
Keys under `store.` belong to the store itself (e.g. the app version that wrote the file) and
are not listed by `as_dict`.
"""

from __future__ import annotations

import json
from typing import Any

from app.storage.db import Database


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    except ValueError as err:
        raise TypeError(f"setting value is not JSON: {err}") from err


class Settings:
    """The settings table of one database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value, or `default` when the key was never set."""
        with self._db.read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    def set(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value (committed); TypeError for anything else."""
        text = _dump(value)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO settings (key, value, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated = excluded.updated",
                (key, text, self._db.now()),
            )

    def delete(self, key: str) -> bool:
        """Forget a key (back to its default); False when it was not set."""
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM settings WHERE key = ?", (key,)).rowcount == 1

    def as_dict(self) -> dict[str, Any]:
        """Every stored setting (the store's own `store.` keys left out)."""
        with self._db.read() as conn:
            rows = conn.execute("SELECT key, value FROM settings WHERE key NOT LIKE 'store.%' "
                                "ORDER BY key").fetchall()
        return {row["key"]: json.loads(row["value"]) for row in rows}
