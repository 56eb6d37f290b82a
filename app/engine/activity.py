"""What the app is doing, as one value: the window's buttons, menus, pane and status bar follow it."""

from __future__ import annotations

from enum import Enum


class Activity(str, Enum):
    """One state, owned by the ChatController (app/ui/chat/chat_controller.py)."""

    IDLE = "idle"
    LOADING = "loading"  # a model is being loaded
    READING = "reading"  # a document is being read ahead (a question may be sent: it waits)
    GENERATING = "generating"  # a reply is being prepared, waits for the reading, or streams
    STOPPING = "stopping"  # Stop was pressed: waiting for the running job to end

    @property
    def can_send(self) -> bool:
        return self in (Activity.IDLE, Activity.READING)

    @property
    def can_stop(self) -> bool:
        return self in (Activity.READING, Activity.GENERATING)
