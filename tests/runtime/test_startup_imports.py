"""The API starts without the PDF and chart libraries: they load when a PDF is first made."""

from __future__ import annotations

import subprocess
import sys


def test_api_import_leaves_pdf_and_chart_libraries_unloaded():
    script = "import sys, backend.app; print(sorted(m for m in ('matplotlib', 'fpdf', 'segno') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout
