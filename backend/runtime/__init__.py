"""Process management for local use: the embedded Redis server and the ``pvpp run`` supervisor."""
