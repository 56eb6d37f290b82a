"""Names of settings read by more than one layer (kept here so no layer imports another's code)."""

from __future__ import annotations

HUB_ENDPOINT = "hub.endpoint"  # a mirror of the model hub; blank: HF_ENDPOINT or the hub itself
HUB_PROXY = "hub.proxy"
HUB_OFFLINE = "hub.offline"
HUB_SOURCE = "hub.source"  # "auto" (fastest to answer), "huggingface", "modelscope" or "openxlab"
