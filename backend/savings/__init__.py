"""Measured savings: customer baseline loads (CBLs), their accuracy, and small savings calculations.

Everything here is pure logic on plain numpy arrays and dates; the service layer does the I/O.
"""
