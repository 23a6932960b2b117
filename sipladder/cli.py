"""The ``sipladder`` command line: a thin click shell over the Python API.

Each command loads a :class:`~sipladder.capture.Capture`, asks it for one thing and
formats it. Shared options are decorators defined once at the top. Every command's
help ends with an ``Example:``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from sipladder.capture import Capture, load
from sipladder.errors import SipLadderError
from sipladder.output import terminal_safe, write_rows
from sipladder.rows import MESSAGES

F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------- shared options


def capture_arguments(func: F) -> F:
    """One or more capture files (pcap, pcapng, optionally gzip-compressed); ``-`` is stdin."""
    return click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")(func)


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="Output format: an aligned table for people, JSON or CSV for programs.",
    )(func)


def quiet_option(func: F) -> F:
    return click.option(
        "-q", "--quiet", is_flag=True, help="Do not print capture problems on standard error."
    )(func)


def open_capture(captures: Sequence[str], quiet: bool = False) -> Capture:
    """Load the captures; a file that cannot be read at all ends the command with status 1."""
    try:
        capture = load(list(captures))
    except SipLadderError as exc:
        raise click.ClickException(terminal_safe(str(exc))) from None
    if not quiet:
        for diagnostic in capture.diagnostics:
            click.echo(f"sipladder: {terminal_safe(str(diagnostic))}", err=True)
    return capture


class ExitCodeException(click.ClickException):
    """Leave with a given status, the message already printed (for ``lint``)."""

    def __init__(self, code: int) -> None:
        super().__init__("")
        self.exit_code = code

    def show(self, file: Any = None) -> None:  # noqa: ARG002 - nothing to show
        return None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sipladder")
def cli() -> None:
    """Read packet captures, find every SIP message, correlate them into transactions,
    dialogs, calls and registrations, and show ladders and timing tables.

    Example:

        sipladder summary samples/ims-tom-jerry.pcapng
    """


# --------------------------------------------------------------------------- messages (capture reading)


@cli.command()
@capture_arguments
@format_option
@quiet_option
def messages(captures: tuple[str, ...], fmt: str, quiet: bool) -> None:
    """One row per SIP message, in time order.

    Example:

        sipladder messages samples/ims-tom-jerry.pcapng --format json
    """
    capture = open_capture(captures, quiet)
    write_rows(MESSAGES, capture.message_rows(), fmt, sys.stdout)


# --------------------------------------------------------------------------- correlation commands


# --------------------------------------------------------------------------- ladder


# --------------------------------------------------------------------------- lint


# --------------------------------------------------------------------------- stats, plot, report


def main() -> None:
    cli(prog_name="sipladder")


if __name__ == "__main__":
    main()
