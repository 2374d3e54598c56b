"""Schools and their classes."""
