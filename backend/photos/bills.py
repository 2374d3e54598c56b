"""Reading a month's kWh from a photo of an electricity bill: OCR, then pure text parsing.

:func:`parse_bill_rows` is pure: it takes OCR'd rows of text and finds "this month" and
"same month last year" kWh from Korean or English labels (사용량, 당월, 금월, 이번 달, 전년동월,
작년 같은 달, this month, usage, same month last year …) and kWh units. "Last month"
(전월) is never taken for last year. It only *proposes* values: the user confirms or corrects
them (``confirmBillReading``) and a person reviews bill photos; OCR alone never awards points.

:func:`read_bill` runs OCR with ``rapidocr-onnxruntime`` (Apache-2.0; ships ONNX PP-OCRv4
models; ~0.7 s per image on 2 cores). Its bundled recognition model reads Latin script,
digits and Chinese but not Hangul, so on a Korean bill the labels come out garbled while the
numbers and "kWh" survive; the parser then falls back to the kWh values in reading order
as candidates. OCR text is never stored: bills carry names and addresses.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from PIL import Image

MAX_PLAUSIBLE_KWH = Decimal(100_000)

_LAST_YEAR = re.compile(r"전년동월|전년\s*동월|전년|작년|지난\s*해|lastyear|sameperiodlastyear|samemonthlastyear|"
                        r"previousyear|yearago|prioryear")
_LAST_MONTH = re.compile(r"전월|지난\s*달|lastmonth|previousmonth|priormonth")
_THIS_MONTH = re.compile(r"당월|금월|이번\s*달|이달|사용량|thismonth|currentmonth|presentmonth|usage|consumption|used")
_NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d])")
_KWH_AFTER = re.compile(r"^\s*(?:k\s*w\s*h|kwh|킬로와트시)", re.IGNORECASE)
_DATE_LIKE = re.compile(r"\d{2,4}\s*[-./년]\s*\d{1,2}|\d{1,2}\s*[:월]\s*\d{1,2}")


@dataclass(frozen=True)
class BillProposal:
    """What OCR suggests; any value may be None (the user types it)."""

    this_month_kwh: Decimal | None = None
    last_year_kwh: Decimal | None = None
    candidates: tuple[Decimal, ...] = field(default_factory=tuple)

    @property
    def found(self) -> bool:
        return self.this_month_kwh is not None or self.last_year_kwh is not None or bool(self.candidates)

    def to_json(self) -> dict[str, Any]:
        return {"this_month_kwh": _s(self.this_month_kwh), "last_year_kwh": _s(self.last_year_kwh),
                "candidates": [str(c) for c in self.candidates]}


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _normalise(text: str) -> str:
    """NFKC (full-width digits and letters), lower case; spaces kept for the number regex."""
    return unicodedata.normalize("NFKC", text).lower()


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _numbers(text: str) -> list[tuple[Decimal, bool]]:
    """(value, followed by kWh) for every plausible number that is not part of a date."""
    found = []
    masked = _DATE_LIKE.sub(lambda m: " " * len(m.group()), text)
    for m in _NUMBER.finditer(masked):
        whole, frac = m.group(1).replace(",", ""), m.group(2)
        try:
            value = Decimal(f"{whole}.{frac}" if frac else whole)
        except InvalidOperation:
            continue
        if 0 < value < MAX_PLAUSIBLE_KWH:
            found.append((value, bool(_KWH_AFTER.match(masked[m.end():]))))
    return found


def _pick(numbers: list[tuple[Decimal, bool]]) -> Decimal | None:
    with_unit = [v for v, unit in numbers if unit]
    return with_unit[0] if with_unit else (numbers[0][0] if numbers else None)


def _label(text: str) -> str | None:
    compact = _compact(text)
    if _LAST_YEAR.search(compact):
        return "last_year"
    if _LAST_MONTH.search(compact):
        return "last_month"
    if _THIS_MONTH.search(compact):
        return "this_month"
    return None


def parse_bill_rows(rows: Sequence[str]) -> BillProposal:
    """Find this month's and last year's kWh in rows of OCR text (top to bottom)."""
    texts = [_normalise(r) for r in rows]
    values: dict[str, Decimal] = {}
    candidates: list[Decimal] = []
    for i, text in enumerate(texts):
        numbers = _numbers(text)
        candidates += [v for v, unit in numbers if unit]
        label = _label(text)
        if label is None or label in values:
            continue
        value = _pick(numbers)
        if value is None and i + 1 < len(texts) and _label(texts[i + 1]) is None:
            value = _pick(_numbers(texts[i + 1]))  # the value printed under its label
        if value is not None:
            values[label] = value
    return BillProposal(values.get("this_month"), values.get("last_year"),
                        tuple(dict.fromkeys(candidates)))


def rows_from_ocr(result: Sequence[Any] | None) -> list[str]:
    """Group RapidOCR boxes ``[box, text, score]`` into rows (by vertical overlap), left to right."""
    boxes = []
    for box, text, _score in result or ():
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        boxes.append((min(ys), max(ys), min(xs), text))
    boxes.sort()
    rows: list[list[tuple[float, float, float, str]]] = []
    for top, bottom, left, text in boxes:
        if rows:
            r_top = min(b[0] for b in rows[-1])
            r_bottom = max(b[1] for b in rows[-1])
            overlap = min(bottom, r_bottom) - max(top, r_top)
            if overlap > 0.5 * min(bottom - top, r_bottom - r_top):
                rows[-1].append((top, bottom, left, text))
                continue
        rows.append([(top, bottom, left, text)])
    return [" ".join(b[3] for b in sorted(row, key=lambda b: b[2])) for row in rows]


_ocr_lock = threading.Lock()
_ocr_engine: Any = None


def _engine() -> Any:
    global _ocr_engine
    with _ocr_lock:
        if _ocr_engine is None:
            from rapidocr_onnxruntime import RapidOCR

            _ocr_engine = RapidOCR()
        return _ocr_engine


def ocr_rows(image: Image.Image) -> list[str]:
    """OCR one image (blocking, ~0.7 s): rows of text, top to bottom."""
    import numpy as np

    result, _elapsed = _engine()(np.asarray(image.convert("RGB")))
    return rows_from_ocr(result)


def read_bill(image: Image.Image) -> BillProposal:
    """OCR plus :func:`parse_bill_rows`; call it in a thread from async code."""
    return parse_bill_rows(ocr_rows(image))
