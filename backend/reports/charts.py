"""PNG charts of the monthly report, drawn by matplotlib with the Korean font registered."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from backend.schools.pdf import FONT_PATH  # noqa: E402

font_manager.fontManager.addfont(str(FONT_PATH))
FAMILY = font_manager.FontProperties(fname=str(FONT_PATH)).get_name()


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def participation_chart(schools: list[dict]) -> bytes:
    """Participation rate by school (suppressed schools shown empty and marked)."""
    with plt.rc_context({"font.family": FAMILY}):
        fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(schools), 1)))
        names = [s["school"] + (" (5명 미만)" if s["suppressed"] else "") for s in schools]
        values = [0 if s["suppressed"] else (s["participationRate"] or 0) * 100 for s in schools]
        ax.barh(names, values, color="#2a7ab9")
        ax.set_xlim(0, 100)
        ax.set_xlabel("참여율 Participation (%)")
        ax.invert_yaxis()
        ax.set_title("학교별 참여율 Participation by school")
        return _png(fig)


def delivery_chart(dr: list[dict]) -> bytes:
    """DR delivery against target per event."""
    with plt.rc_context({"font.family": FAMILY}):
        fig, ax = plt.subplots(figsize=(7, 3))
        labels = [f"#{e['eventId']}" for e in dr] or ["-"]
        xs = range(len(labels))
        ax.bar([x - 0.2 for x in xs], [e["targetKwh"] for e in dr] or [0], width=0.4, label="목표 Target",
               color="#c7c7c7")
        ax.bar([x + 0.2 for x in xs], [e["deliveredKwh"] for e in dr] or [0], width=0.4, label="감축 Delivered",
               color="#e07b00")
        ax.set_xticks(list(xs), labels)
        ax.set_ylabel("kWh")
        ax.set_title("수요반응 목표 대비 감축 DR delivery vs target")
        ax.legend()
        return _png(fig)
