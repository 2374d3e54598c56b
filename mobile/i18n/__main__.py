"""``python -m mobile.i18n``: compile every .po catalogue into the .mo file the app loads."""

from mobile.i18n import LANGUAGES, compile_po, mo_path

for lang in LANGUAGES:
    mo_path(lang).write_bytes(compile_po(lang))
    print(f"wrote {mo_path(lang)}")
