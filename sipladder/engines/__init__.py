"""Alternative ways from capture files to payloads (the default is our own readers and net).

Each engine yields :class:`~sipladder.model.Payload` records, so every later stage is
the same whichever engine read the capture.
"""
