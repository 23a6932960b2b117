"""The promises the README makes: a two-command quick start that CI runs verbatim, and
every CLI command with an ``Example:`` in its help and a section in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sipladder.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", section, re.S)
    assert block, "the quick start has a code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].startswith("pip install .") and "sipladder " in commands[0]
    assert "[test]" in commands[1] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start_commands()[1] in ci_lines


def test_quick_start_sample_exists() -> None:
    sample = quick_start_commands()[0].split()[-1]
    assert (ROOT / sample).is_file(), sample


COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_documented_in_the_readme(name: str) -> None:
    assert f"### `sipladder {name}" in README, f"README has no section for '{name}'"
