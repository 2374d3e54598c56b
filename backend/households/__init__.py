"""Households: the family unit whose electricity saving is measured."""
