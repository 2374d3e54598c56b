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


class Column(BoxLayout):
    """A vertical group as high as what it holds (a list filled by the screen's code)."""


class Card(BoxLayout):
    """A bordered block in a list (an activity, an event, a plug)."""

    tint = ColorProperty([1, 1, 1, 1])
    lines = ListProperty([])
