"""Korean and English: gettext catalogues compiled from the shipped .po files at start-up.

``_("text")`` returns the text in the current language. Korean is the default unless the device
locale says otherwise (or the user chose in settings). Each .po is compiled in memory with babel,
so a changed catalogue never needs a separate build step.
"""

from __future__ import annotations

import gettext
import io
import locale
import os
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("ko", "en")
DOMAIN = "pvpp"
_DIR = Path(__file__).parent
_translations: dict[str, gettext.NullTranslations] = {}
_current = {"lang": "ko"}
_listeners: list[Callable[[str], None]] = []


def po_path(lang: str) -> Path:
    return _DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(lang: str) -> gettext.NullTranslations:
    if lang not in _translations:
        with po_path(lang).open("rb") as f:
            catalog = read_po(f, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        _translations[lang] = gettext.GNUTranslations(buf)
    return _translations[lang]


def device_language() -> str:
    """Korean unless the device locale is clearly another supported language."""
    forced = os.environ.get("PVPP_APP_LANG")
    if forced in LANGUAGES:
        return forced
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            code = value.split("_")[0].split(".")[0].lower()
            return code if code in LANGUAGES else "ko"
    try:
        code = (locale.getlocale()[0] or "ko").split("_")[0].lower()
    except ValueError:
        code = "ko"
    return code if code in LANGUAGES else "ko"


def set_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    load(lang)
    _current["lang"] = lang
    for listener in list(_listeners):
        listener(lang)


def language() -> str:
    return _current["lang"]


def on_change(listener: Callable[[str], None]) -> None:
    _listeners.append(listener)


def _(message: str) -> str:
    return load(_current["lang"]).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return load(_current["lang"]).ngettext(singular, plural, n)
