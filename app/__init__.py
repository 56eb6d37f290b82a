"""InternLM2 Desktop: chat with the InternLM2-1.8B models offline and read long documents whole."""

__version__ = "0.1.0"
APP_NAME = "InternLM2 Desktop"
APP_ID = "internlm2-desktop"
