"""A bar chart drawn on the canvas: one or two series (e.g. baseline and actual per hour)."""

from __future__ import annotations

from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import ListProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

SERIES_COLOURS = [(0.55, 0.62, 0.66, 1), (0.12, 0.55, 0.33, 1)]


class Bars(Widget):
    series = ListProperty([])  # list of lists of numbers (None = missing)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self.redraw, size=self.redraw, series=self.redraw)

    def redraw(self, *_):
        self.canvas.clear()
        values = [v for s in self.series for v in s if v is not None]
        top = max(values, default=0) or 1
        n = max((len(s) for s in self.series), default=0)
        if not n:
            return
        group = self.width / n
        width = group * 0.8 / max(1, len(self.series))
        with self.canvas:
            Color(0.8, 0.83, 0.82, 1)
            Line(points=[self.x, self.y, self.right, self.y], width=1)
            for k, s in enumerate(self.series):
                Color(*SERIES_COLOURS[k % len(SERIES_COLOURS)])
                for i, v in enumerate(s):
                    if v is None:
                        continue
                    h = (self.height - dp(4)) * max(0.0, v) / top
                    Rectangle(pos=(self.x + i * group + group * 0.1 + k * width, self.y), size=(width, h))


class BarChart(BoxLayout):
    """Bars with labels under them and a legend line."""

    def __init__(self, series: list[list[float | None]], labels: list[str], legend: str, **kwargs):
        super().__init__(orientation="vertical", size_hint_y=None, height=dp(180), spacing=dp(2), **kwargs)
        self.bars = Bars(series=series)
        self.add_widget(self.bars)
        row = BoxLayout(size_hint_y=None, height=dp(18))
        for text in labels:
            row.add_widget(Label(text=text, font_size="11sp", color=(0.35, 0.38, 0.37, 1)))
        self.add_widget(row)
        self.add_widget(Label(text=legend, font_size="12sp", color=(0.35, 0.38, 0.37, 1),
                              size_hint_y=None, height=dp(22)))
