"""A notice laid over the top edge of another widget, so that showing it moves nothing.

A banner put into a layout pushes what is below it down when it appears (the transcript jumps
by the banner's height, and again when it goes). This one is a child of the widget it covers,
not a member of any layout: it follows that widget's width, takes the height its wrapped text
needs, and the transcript and the composer keep their places and sizes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QWidget


class OverlayNotice(QLabel):
    """A word-wrapped sentence over the top of `host` (hidden until `show_text`; a click hides it)."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self._host = host
        self.setObjectName("overlayNotice")
        self.setWordWrap(True)
        self.setToolTip(self.tr("Click to hide this notice."))
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)  # opaque: the transcript does not show through
        self.setMargin(6)
        self.hide()
        host.installEventFilter(self)

    def show_text(self, text: str) -> None:
        self.setText(text)
        self._place()
        self.show()
        self.raise_()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self.hide()
        event.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        width = max(self._host.width() - 2 * 8, 50)
        self.setGeometry(8, 4, width, self.heightForWidth(width))


class _Follower(QObject):
    """Keeps `banner` just above `anchor`, over whatever is there, as `anchor` moves or resizes."""

    def __init__(self, banner: QWidget, anchor: QWidget, inset: int) -> None:
        super().__init__(banner)
        self._banner, self._anchor, self._inset = banner, anchor, inset
        anchor.installEventFilter(self)
        banner.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show,
                            QEvent.Type.LayoutRequest):
            self.place()
        return False

    def place(self) -> None:
        anchor, banner = self._anchor, self._banner
        width = max(anchor.width() - 2 * self._inset, 50)
        height = banner.heightForWidth(width) if banner.hasHeightForWidth() else banner.sizeHint().height()
        height = max(height, banner.sizeHint().height())
        banner.setGeometry(anchor.x() + self._inset, anchor.y() - height, width, height)
        banner.raise_()


def float_above(banner: QWidget, anchor: QWidget, inset: int = 12) -> None:
    """Show `banner` (when shown) over the bottom edge of what lies above `anchor` instead of
    inside `anchor`'s layout, so that it appearing moves neither. `anchor` needs a parent."""
    parent = anchor.parentWidget()
    if parent is None:
        return
    banner.setParent(parent)
    banner.setAutoFillBackground(True)  # opaque over the transcript
    banner.hide()
    _Follower(banner, anchor, inset)
