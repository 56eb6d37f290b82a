"""SQLite conversations, messages, attached documents, settings migrations (no Qt here)."""

from app.storage.conversations import suggest_title
from app.storage.db import Database, default_path, move_aside
from app.storage.errors import (
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseTooNewError,
    DatabaseUnavailableError,
    ForeignDatabaseError,
    ImportFormatError,
    MigrationError,
    NotFoundError,
    SearchIndexError,
    StorageError,
)
from app.storage.models import (
    Conversation,
    Document,
    Message,
    MessageState,
    ReplyStats,
    Role,
    SearchHit,
)
from app.storage.store import ConversationStore

__all__ = [
    "Conversation",
    "ConversationStore",
    "DatabaseCorruptError",
    "DatabaseLockedError",
    "DatabaseReadOnlyError",
    "DatabaseTooNewError",
    "DatabaseUnavailableError",
    "Database",
    "Document",
    "ForeignDatabaseError",
    "ImportFormatError",
    "Message",
    "MessageState",
    "MigrationError",
    "NotFoundError",
    "ReplyStats",
    "Role",
    "SearchHit",
    "SearchIndexError",
    "StorageError",
    "default_path",
    "move_aside",
    "suggest_title",
]
