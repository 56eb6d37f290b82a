"""Write the Windows VERSIONINFO resource for the .exe (PyInstaller's `version=` file) from app.__version__.

    python packaging/windows/make_version_info.py OUT.txt

NOT RUN ON WINDOWS HERE: the file format is PyInstaller's VSVersionInfo text (see
PyInstaller/utils/win32/versioninfo.py); the Linux build ignores it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app import APP_ID, APP_NAME, __version__  # noqa: E402

_TEMPLATE = """# UTF-8
VSVersionInfo(
  ffi=FixedFileInfo(filevers={nums}, prodvers={nums}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', 'InternLM2 Desktop'),
      StringStruct('FileDescription', '{name}'),
      StringStruct('FileVersion', '{version}'),
      StringStruct('InternalName', '{app_id}'),
      StringStruct('LegalCopyright', 'Apache-2.0'),
      StringStruct('OriginalFilename', '{app_id}.exe'),
      StringStruct('ProductName', '{name}'),
      StringStruct('ProductVersion', '{version}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


def main() -> int:
    parts = [int(p) for p in __version__.split(".")[:4] if p.isdigit()]
    nums = tuple((parts + [0, 0, 0, 0])[:4])
    Path(sys.argv[1]).write_text(_TEMPLATE.format(nums=nums, name=APP_NAME, version=__version__,
                                                  app_id=APP_ID), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
