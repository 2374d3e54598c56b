"""Reports a municipality answers for: the monthly figures, their charts and PDF."""
