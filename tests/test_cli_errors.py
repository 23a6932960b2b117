"""Command-line errors a user meets: each is one line naming what went wrong, status 1
(2 for usage errors), never a traceback."""

from __future__ import annotations

from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

from sipladder.accel import status as accel_status
from sipladder.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "samples" / "busy.pcap")


@pytest.mark.parametrize(
    ("command", "suffix"),
    [(["ladder"], ".svg"), (["ladder"], ".txt"), (["ladder"], ".png"), (["plot", "calls"], ".svg")],
    ids=["ladder-svg", "ladder-text", "ladder-png", "plot-svg"],
)
def test_output_in_missing_directory_is_one_line_exit_1(
    tmp_path: Path, command: list[str], suffix: str
) -> None:
    target = tmp_path / "no-such-dir" / f"out{suffix}"
    result = CliRunner().invoke(cli, [*command, SAMPLE, "-o", str(target)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr == f"Error: cannot write {target}: No such file or directory\n"
    assert not target.exists()


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_binary_ladder_is_not_printed_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    # CliRunner's stdout stands in for the terminal
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    result = CliRunner().invoke(cli, ["ladder", SAMPLE, "--format", fmt])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"--format {fmt} writes binary data: give -o FILE.{fmt}" in result.stderr


def test_binary_ladder_goes_to_a_pipe() -> None:
    result = CliRunner().invoke(cli, ["ladder", SAMPLE, "--format", "png"])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"\x89PNG\r\n\x1a\n")


def test_every_reading_command_accepts_quiet() -> None:
    # scripts pass -q to every command alike; lint prints no diagnostics anyway
    for command in ("messages", "summary", "calls", "registrations", "transactions",
                    "dialogs", "ladder", "lint", "stats"):
        result = CliRunner().invoke(cli, [command, SAMPLE, "-q"])
        assert result.exit_code == 0, (command, result.stderr)
        assert result.stderr == "", command


def test_version_works_from_a_source_checkout() -> None:
    # the tests run from the checkout, not an installed package: no metadata to look up
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = next(
        line.split('"')[1] for line in pyproject.splitlines() if line.startswith("version = ")
    )
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0, result.exception
    assert result.stdout == f"sipladder, version {version} ({accel_status()})\n"
