"""Coverage-guided fuzzing (atheris/libFuzzer) of capture reading, decoding, parsing,
correlation and lint: the whole pipeline on a fuzzed capture file.

The contract under test: on any file, :class:`~sipladder.capture.Capture` either raises
:class:`~sipladder.errors.CaptureError` (the file cannot be read at all) or returns, with
every problem as a diagnostic; correlation, lint and the summary then never fail.

    pip install atheris
    python fuzz/fuzz_capture.py -max_total_time=600 [CORPUS_DIR...]

Without a corpus folder, ``fuzz/corpus/capture`` is created from the repository's small
captures (tests/data, samples). Each input is written to one temporary file (in
/dev/shm when there is one), because only the reader opens files.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile

import atheris
import common

with atheris.instrument_imports():
    from sipladder.capture import Capture
    from sipladder.errors import CaptureError
    from sipladder.model import Diagnostic

_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
_FD, _PATH = tempfile.mkstemp(suffix=".pcap", dir=_DIR)
atexit.register(os.unlink, _PATH)


def test_one_input(data: bytes) -> None:
    with open(_PATH, "wb") as f:
        f.write(data)
    try:
        capture = Capture(_PATH)
    except CaptureError:
        return
    for diagnostic in capture.diagnostics:
        assert isinstance(diagnostic, Diagnostic) and diagnostic.message
    capture.summary()
    capture.lint()
    capture.message_rows()


def main() -> None:
    seeds = [p.read_bytes() for p in common.capture_files() if p.stat().st_size <= 20_000]
    argv = common.with_default_corpus(sys.argv, "capture", seeds)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
