"""Android entry point: python-for-android starts ``main.py``; the app itself is the ``mobile`` package.

On a desktop ``python main.py`` is the same as ``python -m mobile``.
"""

import runpy

runpy.run_module("mobile", run_name="__main__", alter_sys=True)
