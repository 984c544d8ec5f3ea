"""Scripts run by path in an app's own interpreter (``sync/app/run.py``); stdlib only.

Not imported by appctl: each is a file ``run.probe`` hands to another Python. ``_appctl_probe``
is what they share (the path set-up, the marker line, the error report).
"""
