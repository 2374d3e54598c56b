"""Benchmarks run with ``pvpp bench NAME``: each module here with a ``main(args) -> int``."""
