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
        # by identity: the arguments hold weak proxies, which cannot be compared once dead
        self._observers = [o for o in self._observers if not (o[0] is func and o[1] is args)]
        return None

    def relabel(self) -> None:
        dead = set()
        for observer in list(self._observers):
            func, args, _kwargs = observer
            try:
                func(args, None, None)
            except ReferenceError:  # its widget is gone (kv holds widgets weakly)
                dead.add(id(observer))
        if dead:
            self._observers = [o for o in self._observers if id(o) not in dead]


tr = LiveTranslation()
