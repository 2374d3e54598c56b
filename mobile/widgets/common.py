"""Small building blocks with the app's look; their kv rules are in ``common.kv``."""

from __future__ import annotations

from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput

TOUCH = dp(48)


class Para(Label):
    """Wrapping text whose height follows its content (none while it is empty)."""


class Heading(Para):
    pass


class Note(Para):
    """Small grey text (explanations, states)."""


class Btn(Button):
    """A button at least 48 dp high; ``hidden`` takes it out of the layout (and out of reach)."""

    tone = StringProperty("primary")
    hidden = BooleanProperty(False)


class Field(TextInput):
    """A one-line input 48 dp high; ``hidden`` takes it out of the layout."""

    hidden = BooleanProperty(False)


class Tile(BoxLayout):
    """A figure with its caption (home screen, wallet)."""

    caption = StringProperty("")
    value = StringProperty("")
    tint = ColorProperty([0.90, 0.96, 0.91, 1])


class Row(BoxLayout):
    """A horizontal row of buttons or fields, 48 dp high."""


class Stack(BoxLayout):
    """A vertical box in which a child of height 0 (an empty heading, note or list) takes no
    spacing either, so a part of a screen with nothing to show leaves no gap.

    Lays out like BoxLayout when a child stretches (``size_hint_y`` set) or when horizontal.
    """

    def do_layout(self, *largs):
        children = self.children
        if self.orientation != "vertical" or any(c.size_hint_y is not None for c in children):
            return super().do_layout(*largs)
        left, top, right, bottom = self.padding
        shown = [c for c in children if c.height > 0]
        inner = self.width - left - right
        self.minimum_size = (left + right + max((c.width for c in shown if c.size_hint_x is None), default=0),
                             top + bottom + sum(c.height for c in shown) + self.spacing * max(0, len(shown) - 1))
        y = self.y + bottom
        for child in children:  # bottom to top, as BoxLayout
            if child.size_hint_x is not None:
                child.width = inner * child.size_hint_x
            child.pos = (self.x + left, y)
            if child.height > 0:
                y += child.height + self.spacing


class Column(Stack):
    """A vertical group as high as what it holds (a list filled by the screen's code)."""


class Card(Stack):
    """A bordered block in a list (an activity, an event, a plug)."""

    tint = ColorProperty([1, 1, 1, 1])
    lines = ListProperty([])
