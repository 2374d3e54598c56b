"""Kivy configuration that must happen before any Kivy widget is imported.

Sets the Korean-capable default font (NotoSansKR, OFL) so Hangul never renders as boxes, keeps Kivy
from reading the command line, and keeps its home directory out of ``~/.kivy`` when asked.
"""

from __future__ import annotations

import os
from pathlib import Path

FONT_NAME = "NotoSansKR"
_ASSETS = Path(__file__).parent / "assets" / "fonts"


def font_path() -> str:
    """The bundled font file: a copy under assets/fonts (packaged builds) or the pylopdf-fonts-ko one."""
    local = _ASSETS / "NotoSansKR-Regular.otf"
    if local.exists():
        return str(local)
    import pylopdf_fonts_ko

    return str(pylopdf_fonts_ko.sans_path())


def configure() -> None:
    """Idempotent: environment and Config before the Window exists."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    path = font_path()
    Config.set("kivy", "default_font", str([FONT_NAME, path, path, path, path]))
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    if not os.environ.get("PVPP_APP_KEEP_WINDOW_SIZE"):
        Config.set("graphics", "width", os.environ.get("PVPP_APP_WIDTH", "420"))
        Config.set("graphics", "height", os.environ.get("PVPP_APP_HEIGHT", "800"))
