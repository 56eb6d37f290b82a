"""Model download from Hugging Face, ModelScope or OpenXLab: progress, resume, verification, disk space."""

from app.hub.diskspace import FreeSpace, conversion_margin, free_bytes
from app.hub.download import MODEL_DEFAULT, DownloadResult, ModelDownloader, NoSourceAnsweredError
from app.hub.errors import (
    BadEndpointError,
    ChecksumMismatchError,
    DiskWriteError,
    DownloadCancelled,
    HubAccessError,
    HubError,
    HubServerError,
    HubUnreachableError,
    NotEnoughDiskSpaceError,
    OfflineModeError,
    RemoteFileNotFoundError,
)
from app.hub.progress import DownloadProgress, ProgressCallback
from app.hub.safety import UnsafeAnswerError
from app.hub.state import ModelState, Status, catalog_states, model_state
from app.hub.transfer import TransferSettings

__all__ = [
    "MODEL_DEFAULT",
    "BadEndpointError",
    "ChecksumMismatchError",
    "DiskWriteError",
    "DownloadCancelled",
    "DownloadProgress",
    "DownloadResult",
    "FreeSpace",
    "HubAccessError",
    "HubError",
    "HubServerError",
    "HubUnreachableError",
    "ModelDownloader",
    "ModelState",
    "NoSourceAnsweredError",
    "NotEnoughDiskSpaceError",
    "OfflineModeError",
    "ProgressCallback",
    "RemoteFileNotFoundError",
    "Status",
    "TransferSettings",
    "UnsafeAnswerError",
    "catalog_states",
    "conversion_margin",
    "free_bytes",
    "model_state",
]
