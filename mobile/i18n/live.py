"""Labels written in kv as ``tr._("text")`` are translated again when the language changes.

Kivy binds a kv expression to every attribute it reads; ``tr`` answers the binding to ``_`` by
keeping the rule's callback and calling it after :func:`mobile.i18n.set_language`, so the visible
screens relabel at once, without a restart (the pattern of Kivy's gettext example).
"""

from __future__ import annotations

from typing import Any

from kivy.lang import Observable

from mobile import i18n


class LiveTranslation(Observable):
    def __init__(self) -> None:
        super().__init__()
        self._observers: list[tuple[Any, Any, dict]] = []
        i18n.on_change(lambda _lang: self.relabel())

    def _(self, text: str) -> str:
        return i18n._(text)

    def fbind(self, name: str, func, args, **kwargs):
        if name != "_":
            return super().fbind(name, func, *args, **kwargs)
        self._observers.append((func, args, kwargs))
        return None

    def funbind(self, name: str, func, args, **kwargs):
        if name != "_":
            return super().funbind(name, func, *args, **kwargs)
        key = (func, args, kwargs)
        if key in self._observers:
            self._observers.remove(key)
        return None

    def relabel(self) -> None:
        for func, args, _kwargs in list(self._observers):
            func(args, None, None)


tr = LiveTranslation()
