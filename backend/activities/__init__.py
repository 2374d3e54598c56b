"""Activity catalogue: the kinds of electricity-saving activity a family can report.

Pure logic only. :mod:`backend.activities.catalogue` loads the versioned data file
``data/activity_types.v1.json`` (names, deemed-savings formulas with their assumed device power
and sources, plausibility limits, photo and frequency rules), validates it, and computes deemed
savings in kWh from the parameters of one report. No ORM, no web, no I/O beyond reading the
packaged data file.
"""
