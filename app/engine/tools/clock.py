"""The date-and-time tool: this computer's local date and time, with its time zone."""

from __future__ import annotations

from datetime import datetime


def now_text(moment: datetime | None = None) -> str:
    """E.g. `2026-12-01 13:05:42, Tuesday, time zone CET (UTC+01:00)`."""
    local = (moment or datetime.now()).astimezone()
    offset = local.strftime("%z") or "+0000"
    zone = local.tzname() or ""
    return (f"{local:%Y-%m-%d %H:%M:%S}, {local:%A}, time zone {zone} "
            f"(UTC{offset[:3]}:{offset[3:]})").replace("  ", " ")
