"""Municipalities: local governments that run coin programmes."""
