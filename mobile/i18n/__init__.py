"""Korean and English: gettext catalogues, shipped as .po (edited) and .mo (compiled, loaded).

``_("text")`` returns the text in the current language. Korean is the default unless the device
locale says otherwise (or the user chose in settings). The app loads the compiled .mo with the
standard library (fast start); when a .po is newer than its .mo (a developer edited it) the .po
is compiled in memory with babel instead. ``python -m mobile.i18n`` writes the .mo files; a
test fails when one is stale.
"""

from __future__ import annotations

import gettext
import io
import locale
import os
from collections.abc import Callable
from pathlib import Path

LANGUAGES = ("ko", "en")
DOMAIN = "pvpp"
_DIR = Path(__file__).parent
_translations: dict[str, gettext.NullTranslations] = {}
_current = {"lang": "ko"}
_listeners: list[Callable[[str], None]] = []


def po_path(lang: str) -> Path:
    return _DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def compile_po(lang: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def load(lang: str) -> gettext.NullTranslations:
    if lang not in _translations:
        mo, po = mo_path(lang), po_path(lang)
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            data = mo.read_bytes()
        else:
            data = compile_po(lang)
        _translations[lang] = gettext.GNUTranslations(io.BytesIO(data))
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


def N_(message: str) -> str:
    """Marks a string for the catalogues where it is defined; ``_()`` translates it where shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return load(_current["lang"]).ngettext(singular, plural, n)
