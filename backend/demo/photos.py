"""Evidence pictures for the demo: real photos whose licence permits it, else generated ones.

Only rows of ``photo_eval/MANIFEST.csv`` under MIT, Apache-2.0 or CC-BY-2.5 are used, and none
showing people: the notes name some, and :data:`SHOWS_PEOPLE` lists the classroom photos whose
notes do not mention the pupils in them (the demo's pictures end up in screenshots and docs).
Generated pictures fill the pool up to :data:`POOL_SIZE`. Each use is a slightly different crop (as a second phone shot would be), so two
families never send byte-identical files; the verify step still notices near duplicates.
"""

from __future__ import annotations

import csv
import io
import os
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

PERMITTED = ("MIT", "Apache-2.0", "CC-BY-2.5")
CLASSES = ("device_on", "charger_plugged")
PEOPLE_WORDS = ("person", "people", "portrait")
SHOWS_PEOPLE = frozenset(f"device_on/device_on_00{n}.{ext}" for n, ext in
                         ((3, "png"), (4, "jpg"), (5, "jpg"), (6, "jpg"), (7, "jpg")))
POOL_SIZE = 6
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Picture:
    name: str
    licence: str
    source: str
    path: Path | None  # None: generated


def shared_dir() -> Path:
    """``PVPP_SHARED_DIR`` or ``../shared`` next to the repository (as the tests resolve it)."""
    return Path(os.environ.get("PVPP_SHARED_DIR") or REPO.parent / "shared")


def permitted(licence: str, notes: str) -> bool:
    words = licence.split()
    return bool(words) and words[0] in PERMITTED and not any(w in notes.lower() for w in PEOPLE_WORDS)


def picture_pool(root: Path | None = None) -> list[Picture]:
    """The permitted real photos, in manifest order; generated pictures when there are none."""
    folder = (root or shared_dir()) / "photo_eval"
    pool: list[Picture] = []
    manifest = folder / "MANIFEST.csv"
    if manifest.is_file():
        with manifest.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["class"] in CLASSES and permitted(row["license"], row.get("notes", "")) \
                        and row["file"] not in SHOWS_PEOPLE and (folder / row["file"]).is_file():
                    pool.append(Picture(row["file"], row["license"], row["source_repo"], folder / row["file"]))
    return pool + [Picture(f"generated-{n}", "generated", "backend.demo.photos", None)
                   for n in range(len(pool), max(POOL_SIZE, len(pool)))]


def _generated(n: int) -> Image.Image:
    """A dim room with a lit screen: a stand-in when no permitted photo is at hand."""
    r = random.Random(n)
    im = Image.new("RGB", (960, 720), (r.randint(20, 50), r.randint(20, 40), r.randint(30, 60)))
    draw = ImageDraw.Draw(im)
    x, y = r.randint(150, 350), r.randint(120, 250)
    draw.rectangle((x - 20, y - 20, x + 460, y + 300), fill=(25, 25, 25))
    draw.rectangle((x, y, x + 420, y + 260), fill=(r.randint(120, 220), r.randint(150, 230), 255))
    draw.rectangle((x + 190, y + 280, x + 230, y + 360), fill=(40, 40, 40))
    return im


def picture_bytes(pool: list[Picture], index: int, variant: str) -> tuple[bytes, str]:
    """JPEG bytes of picture ``index``, cropped deterministically for ``variant``."""
    picture = pool[index % len(pool)]
    im = Image.open(picture.path).convert("RGB") if picture.path else _generated(index)
    r = random.Random(variant)
    w, h = im.size
    keep = r.uniform(0.86, 0.96)
    cw, ch = int(w * keep), int(h * keep)
    left, top = r.randint(0, w - cw), r.randint(0, h - ch)
    out = io.BytesIO()
    im.crop((left, top, left + cw, top + ch)).save(out, "JPEG", quality=r.randint(84, 92))
    return out.getvalue(), Path(picture.name).with_suffix(".jpg").name


def bill_bytes(this_month_kwh: int, last_year_kwh: int, month: str) -> tuple[bytes, str]:
    """A generated electricity bill (no permitted real bill photos exist) the OCR can read."""
    lines = [f"KEPCO Electricity Bill  {month}", "Customer no. 12-3456-7890",
             f"This month usage  {this_month_kwh} kWh", f"Same month last year  {last_year_kwh} kWh",
             f"Amount due {this_month_kwh * 140:,} KRW"]
    font = ImageFont.load_default(40)  # Pillow's bundled scalable font: no system font needed
    im = Image.new("RGB", (1400, 160 + 100 * len(lines)), (250, 250, 245))
    draw = ImageDraw.Draw(im)
    for i, text in enumerate(lines):
        draw.text((80, 80 + 100 * i), text, fill=(20, 20, 20), font=font)
    out = io.BytesIO()
    im.rotate(1.5, expand=True, fillcolor=(250, 250, 245)).save(out, "JPEG", quality=90)
    return out.getvalue(), f"bill-{month}.jpg"
