"""The ``sipladder`` command line: a thin click shell over the Python API.

Each command loads a :class:`~sipladder.capture.Capture`, asks it for one thing and
formats it. Shared options are decorators defined once at the top. Every command's
help ends with an ``Example:``.
"""

from __future__ import annotations

import gc
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sipladder import __version__
from sipladder.accel import status as accel_status
from sipladder.errors import SipLadderError
from sipladder.model import (
    CallState,
    Diagnostic,
    DialogState,
    RegistrationState,
    TransactionState,
)
from sipladder.output import terminal_safe, write_rows
from sipladder.progress import Progress
from sipladder.rows import CALLS, DIALOGS, MESSAGES, REGISTRATIONS, SUMMARY, TRANSACTIONS

if TYPE_CHECKING:  # (imported where used: `calls` streams without a Capture)
    from sipladder.capture import Capture

F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------- shared options


def capture_arguments(func: F) -> F:
    """One or more capture files (pcap, pcapng, optionally gzip-compressed); ``-`` is stdin.
    Every command that reads captures also gets the engine options below."""
    func = engine_options(func)
    return click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")(func)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    # Kept on the context for open_capture, so no command has to pass them along.
    ctx.meta[f"sipladder.{param.name}"] = value
    return value


def engine_options(func: F) -> F:
    """--engine, --tls-keylog and --decode-as: how the captures are read (see open_capture)."""
    func = click.option(
        "--decode-as",
        multiple=True,
        metavar="RULE",
        expose_value=False,
        callback=_remember,
        help="A tshark decode-as rule, such as 'tcp.port==6060,sip' (repeatable); "
        "needs --engine tshark.",
    )(func)
    func = click.option(
        "--tls-keylog",
        type=click.Path(exists=True, dir_okay=False),
        expose_value=False,
        callback=_remember,
        help="TLS key log file (SSLKEYLOGFILE format) to decrypt SIP over TLS 1.2/1.3; "
        "needs --engine tshark.",
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(["native", "tshark"]),
        default="native",
        show_default=True,
        expose_value=False,
        callback=_remember,
        help="How captures are read: sipladder's own fast decoder, or Wireshark's "
        "dissectors through pyshark (pip install 'sipladder[tshark]').",
    )(func)


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
        "-q",
        "--quiet",
        is_flag=True,
        help="Do not print capture problems or the progress line on standard error.",
    )(func)


def load(*args: Any, **kwargs: Any) -> Capture:
    """:func:`sipladder.capture.load`, imported on first use: ``calls`` streams without
    a Capture, and importing the capture, ladder and table modules costs a tenth of a
    second at every start."""
    from sipladder.capture import load as load_capture

    return load_capture(*args, **kwargs)


def open_capture(captures: Sequence[str], quiet: bool = False) -> Capture:
    """Load the captures; a file that cannot be read at all ends the command with status 1.

    While reading, a progress line (packets, SIP messages, calls) is drawn on standard
    error when it is a terminal, unless ``quiet``. ``--engine`` and ``--tls-keylog``
    (see :func:`engine_options`) choose how the files are read."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    engine = meta.get("sipladder.engine") or "native"
    keylog = meta.get("sipladder.tls_keylog")
    if keylog is not None and engine != "tshark":
        raise click.UsageError("--tls-keylog needs --engine tshark (Wireshark decrypts TLS)")
    decode_as: dict[str, str] = {}
    for rule in meta.get("sipladder.decode_as") or ():
        selector, comma, protocol = rule.rpartition(",")
        if not comma or not selector or not protocol:
            raise click.BadParameter(
                f"{rule!r} is not SELECTOR,PROTOCOL (e.g. tcp.port==6060,sip)",
                param_hint="--decode-as",
            )
        decode_as[selector] = protocol
    if decode_as and engine != "tshark":
        raise click.UsageError("--decode-as needs --engine tshark")
    try:
        if engine != "native":
            capture = load(list(captures), engine=engine, tls_keylog=keylog, decode_as=decode_as)
        else:
            progress = Progress.for_files(list(captures), quiet=quiet)
            capture = load(list(captures), progress) if progress.enabled else load(list(captures))
    except SipLadderError as exc:
        raise click.ClickException(terminal_safe(str(exc))) from None
    print_diagnostics(capture.diagnostics, quiet)
    return capture


def print_diagnostics(diagnostics: Sequence[Diagnostic], quiet: bool) -> None:
    """Capture problems, one line each on standard error (not with ``--quiet``)."""
    if not quiet:
        for diagnostic in diagnostics:
            click.echo(f"sipladder: {terminal_safe(str(diagnostic))}", err=True)


def check_bucket(bucket: str | None) -> None:
    """A --bucket value that cannot be read ends the command before the capture is read."""
    from sipladder.analysis.metrics import parse_bucket

    if bucket is not None:
        try:
            parse_bucket(bucket)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--bucket") from None


def cannot_write(path: str, exc: OSError) -> click.ClickException:
    """An output file that cannot be written (a directory that does not exist, no
    permission, a full disk): one line naming the file, status 1, no traceback."""
    return click.ClickException(terminal_safe(f"cannot write {path}: {exc.strerror or exc}"))


class ExitCodeException(click.exceptions.Exit):
    """Leave with a given status, the findings already printed (for ``lint``)."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
# the version is given, not looked up in the installed metadata: a source checkout run
# with ``python -m sipladder`` has none, and --version must not fail there
# (and says whether the compiled accelerator is in use: worth knowing in a bug report)
@click.version_option(
    version=__version__,
    prog_name="sipladder",
    message=f"%(prog)s, version %(version)s ({accel_status()})",
)
def cli() -> None:
    """Read packet captures, find every SIP message, correlate them into transactions,
    dialogs, calls and registrations, and show ladders and timing tables.

    Example:

        sipladder summary samples/ims-tom-jerry.pcapng
    """


# --------------------------------------------------------------------------- messages


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


#: The one help text for the forms --since/--until take (on every command that has them);
#: the parser is sipladder.layout.parse_time, shared with Capture.ladder.
TIME_FORMS = (
    "ISO 8601 (UTC unless an offset is given), epoch seconds, HH:MM:SS[.fff] (UTC, on the "
    "day of the capture's first message), or +SECONDS after the first message"
)


class TimeParam(click.ParamType):
    """A --since/--until value: checked when the command line is read (a typo is a usage
    error before any capture is loaded), resolved to ns by :func:`resolve_time` once the
    capture's first message is known (``+SECONDS`` and ``HH:MM:SS`` need it)."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from sipladder.layout import parse_time

        text = str(value).strip()
        try:
            parse_time(text, first_ns=0)  # syntax only: any first message will do
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return text


def resolve_time(text: str | None, capture: Capture | int | None, param_hint: str) -> int | None:
    """A --since/--until value as integer ns since the epoch, relative forms counted from
    the capture's first message (as ``ladder`` does; or from ``capture`` when it is that
    time already); None when the option was not given."""
    from sipladder.layout import parse_time

    if text is None:
        return None
    if capture is None or isinstance(capture, int):
        first = capture
    else:
        first = capture.records[0].ts_ns if len(capture) else None
    try:
        return parse_time(text, first)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param_hint) from None


def window_options(func: F) -> F:
    """``--since`` and ``--until`` (TIME_FORMS); the table commands keep rows whose start
    lies in the window (inclusive), ``ladder`` keeps the messages sent in it."""
    func = click.option(
        "--until", type=TimeParam(), default=None,
        help="End of the time window, inclusive (same forms as --since).",
    )(func)
    return click.option(
        "--since", type=TimeParam(), default=None,
        help=f"Start of the time window, inclusive: {TIME_FORMS}.",
    )(func)


def call_id_option(func: F) -> F:
    return click.option(
        "--call-id", "call_ids", multiple=True, help="Only this Call-ID (repeatable)."
    )(func)


def state_option(choices: Sequence[str]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "--state", "states", multiple=True, type=click.Choice(list(choices)),
            help="Only rows in this state (repeatable).",
        )(func)

    return decorate


def method_option(func: F) -> F:
    return click.option(
        "--method", "methods", multiple=True,
        help="Only this request method, any case (repeatable).",
    )(func)


def filter_rows(
    rows: Iterable[dict[str, Any]],
    *,
    call_ids: Sequence[str] = (),
    states: Sequence[str] = (),
    methods: Sequence[str] = (),
    aors: Sequence[str] = (),
    since: int | None = None,
    until: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The rows that pass every filter given (an empty filter keeps everything), as they
    come (``write_rows`` writes JSON and CSV without holding them all)."""
    wanted_methods = {m.upper() for m in methods}
    for row in rows:
        if call_ids and row.get("call_id") not in call_ids and not (
            set(call_ids) & set(row.get("call_ids") or ())
        ):
            continue
        if states and row.get("state") not in states:
            continue
        if wanted_methods and str(row.get("method") or "").upper() not in wanted_methods:
            continue
        if aors and row.get("aor") not in aors:
            continue
        start = row.get("start")
        if since is not None and (start is None or start < since):
            continue
        if until is not None and (start is None or start > until):
            continue
        yield row


@cli.command()
@capture_arguments
@format_option
@call_id_option
@state_option([s.value for s in CallState])
@window_options
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per core, for captures over 8 MB). Each reads "
    "the whole capture and correlates the calls of its share of the Call-IDs.",
)
@quiet_option
def calls(
    captures: tuple[str, ...],
    fmt: str,
    call_ids: tuple[str, ...],
    states: tuple[str, ...],
    since: str | None,
    until: str | None,
    jobs: int | None,
    quiet: bool,
) -> None:
    """One row per call (Call-ID with an INVITE): outcome, post-dial delay, answer and
    release times, measured where the caller sees them (see "Timing definitions").

    Messages are not kept once correlated, so memory grows with the number of calls,
    not with the size of the capture (see "Speed and memory").

    Example:

        sipladder calls samples/ims-tom-jerry.pcapng --state completed --format json
    """
    ctx = click.get_current_context()
    rows: Iterable[dict[str, Any]]
    if (ctx.meta.get("sipladder.engine") or "native") != "native":
        capture = open_capture(captures, quiet)
        rows, first = capture.call_rows(), (capture.records[0].ts_ns if len(capture) else None)
    else:
        from sipladder.output import iter_json_objects, json_record_writers
        from sipladder.rows import CALL_IDS_FROM, CALL_VALUES, call_row
        from sipladder.streaming import CallText, stream_calls

        every = fmt == "json" and not (call_ids or states or since or until)
        # Every call in JSON: each one's object written from its record as the calls are
        # correlated (no row dict made for each; the same text), by the workers but for
        # the ids, which only the parent can number.
        text = CallText(*json_record_writers(CALLS, CALL_VALUES, CALL_IDS_FROM)) if every else None
        progress = Progress.for_files(list(captures), quiet=quiet)
        try:
            result = stream_calls(list(captures), workers=jobs, progress=progress, text=text)
        except SipLadderError as exc:
            raise click.ClickException(terminal_safe(str(exc))) from None
        print_diagnostics(result.diagnostics, quiet)
        if result.texts is not None:
            for piece in iter_json_objects(result.texts):
                sys.stdout.write(piece)
            return
        # rows made as they are written: a million calls are never all rows at once
        rows, first = map(call_row, result.calls), result.first_ns
    kept = filter_rows(
        rows, call_ids=call_ids, states=states,
        since=resolve_time(since, first, "--since"),
        until=resolve_time(until, first, "--until"),
    )
    write_rows(CALLS, kept, fmt, sys.stdout)


@cli.command()
@capture_arguments
@format_option
@click.option("--aor", "aors", multiple=True, help="Only this address of record (repeatable).")
@call_id_option
@state_option([s.value for s in RegistrationState])
@window_options
@quiet_option
def registrations(
    captures: tuple[str, ...],
    fmt: str,
    aors: tuple[str, ...],
    call_ids: tuple[str, ...],
    states: tuple[str, ...],
    since: str | None,
    until: str | None,
    quiet: bool,
) -> None:
    """One row per registration attempt (one AOR and contact, across 401/407 challenges
    even when the Call-ID changes): kind, outcome, delay and expires.

    Example:

        sipladder registrations samples/ims-tom-jerry.pcapng --aor sip:tom@telcomx.tel.com
    """
    capture = open_capture(captures, quiet)
    rows = filter_rows(
        capture.registration_rows(),
        aors=aors, call_ids=call_ids, states=states,
        since=resolve_time(since, capture, "--since"),
        until=resolve_time(until, capture, "--until"),
    )
    write_rows(REGISTRATIONS, rows, fmt, sys.stdout)


@cli.command()
@capture_arguments
@format_option
@call_id_option
@method_option
@state_option([s.value for s in TransactionState])
@window_options
@quiet_option
def transactions(
    captures: tuple[str, ...],
    fmt: str,
    call_ids: tuple[str, ...],
    methods: tuple[str, ...],
    states: tuple[str, ...],
    since: str | None,
    until: str | None,
    quiet: bool,
) -> None:
    """One row per transaction and hop (RFC 3261 section 17): its times on that hop, its
    retransmissions, and the delay each proxy added (forward_ms, return_ms).

    Example:

        sipladder transactions samples/ims-tom-jerry.pcapng --method INVITE
    """
    capture = open_capture(captures, quiet)
    rows = filter_rows(
        capture.transaction_rows(),
        call_ids=call_ids, methods=methods, states=states,
        since=resolve_time(since, capture, "--since"),
        until=resolve_time(until, capture, "--until"),
    )
    write_rows(TRANSACTIONS, rows, fmt, sys.stdout)


@cli.command()
@capture_arguments
@format_option
@call_id_option
@method_option
@state_option([s.value for s in DialogState])
@window_options
@quiet_option
def dialogs(
    captures: tuple[str, ...],
    fmt: str,
    call_ids: tuple[str, ...],
    methods: tuple[str, ...],
    states: tuple[str, ...],
    since: str | None,
    until: str | None,
    quiet: bool,
) -> None:
    """One row per dialog (RFC 3261 section 12: Call-ID and both tags): forked calls have
    several; states early, confirmed, terminated, with the time spent in each.

    Example:

        sipladder dialogs samples/ims-tom-jerry.pcapng --format csv
    """
    capture = open_capture(captures, quiet)
    rows = filter_rows(
        capture.dialog_rows(),
        call_ids=call_ids, methods=methods, states=states,
        since=resolve_time(since, capture, "--since"),
        until=resolve_time(until, capture, "--until"),
    )
    write_rows(DIALOGS, rows, fmt, sys.stdout)


@cli.command()
@capture_arguments
@format_option
@quiet_option
def summary(captures: tuple[str, ...], fmt: str, quiet: bool) -> None:
    """A one-screen overview: files, time span, messages by method and status, calls by
    state, registrations, retransmissions, anomalies, capture problems, slowest setups.

    Example:

        sipladder summary samples/ims-tom-jerry.pcapng
    """
    from sipladder.analysis.summary import summary_json, summary_rows, summary_text

    capture = open_capture(captures, quiet)
    data = capture.summary()
    if fmt == "json":
        sys.stdout.write(summary_json(data))
    elif fmt == "csv":
        write_rows(SUMMARY, summary_rows(data), "csv", sys.stdout)
    else:
        sys.stdout.write(summary_text(data))



# --------------------------------------------------------------------------- ladder


def _alias(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    from sipladder.layout import parse_alias

    aliases: dict[str, str] = {}
    for value in values:
        try:
            address, name = parse_alias(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
        aliases[address] = name
    return aliases


@cli.command()
@capture_arguments
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
    help="Write the ladder to FILE; the suffix picks the format: .svg .html .png .pdf "
    ".txt .mmd (Mermaid) .puml (PlantUML). Without -o a text ladder is printed.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "text", "png", "pdf", "html", "mermaid", "plantuml"]),
    default=None, help="Output format, when the file suffix does not say it (or to print SVG).",
)
@click.option(
    "--alias", "aliases", multiple=True, callback=_alias, metavar="ADDR=NAME",
    help="Name a column: ADDR is an ip (all ports), ip:port, [v6]:port or a host name "
    "learned from the capture. Repeatable.",
)
@click.option(
    "--hosts", "hosts_file", type=click.File("r", encoding="utf-8"), default=None,
    help="Column names from a hosts-format file (ADDRESS NAME per line, # comments).",
)
@click.option(
    "--group", type=click.Choice(["endpoint", "host"]), default="endpoint", show_default=True,
    help="One column per ip:port (endpoint) or per address (host: ports merged).",
)
@click.option(
    "--colour-by", "colour_by", type=click.Choice(["dialog", "transaction"]), default="dialog",
    show_default=True,
    help="One colour per dialog (registration attempt, Call-ID for the rest), or per "
    "request with its responses, across all hops.",
)
@click.option("--call-id", default=None, help="Only the messages of this Call-ID.")
@click.option("--aor", default=None, help="Only this address of record's registration messages.")
@window_options
@click.option(
    "--max-messages", type=click.IntRange(min=1), default=None,
    help="Draw at most N messages (a note on the ladder says how many were cut).",
)
@click.option(
    "--width", type=click.IntRange(min=40), default=None,
    help="Width of a text ladder in characters (default: the terminal's; for a file, "
    "as wide as the labels need).",
)
@click.option(
    "--no-learned-names", is_flag=True, help="Do not name columns from Via/Record-Route host names."
)
@quiet_option
def ladder(
    captures: tuple[str, ...],
    output: str | None,
    fmt: str | None,
    aliases: dict[str, str],
    hosts_file: Any,
    group: str,
    colour_by: str,
    call_id: str | None,
    aor: str | None,
    since: str | None,
    until: str | None,
    max_messages: int | None,
    width: int | None,
    no_learned_names: bool,
    quiet: bool,
) -> None:
    """Draw a ladder (sequence) diagram: one column per endpoint in the order the
    requests crossed them, one arrow per message, timing brackets (PDD, answer,
    release, registration, per-hop delay) at the side.

    Example:

    \b
        sipladder ladder samples/ims-tom-jerry.pcapng -o ims.svg \\
            --alias 5555::a:f:f:e=P-CSCF --alias 4444::2:3:4:5=Tom
    """
    from sipladder.errors import MissingExtraError
    from sipladder.ladder import format_for
    from sipladder.layout import parse_hosts

    names: dict[str, str] = parse_hosts(hosts_file.read()) if hosts_file is not None else {}
    names.update(aliases)  # --alias wins over --hosts
    try:
        chosen = format_for(output, fmt) if output is not None else (fmt or "text")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="-o/--output") from None
    if output is None and chosen in ("png", "pdf") and sys.stdout.isatty():
        # binary data would garble the terminal: ask for a file (or a pipe) instead
        raise click.UsageError(f"--format {chosen} writes binary data: give -o FILE.{chosen}")
    capture = open_capture(captures, quiet)
    try:
        result = capture.ladder(
            call_id=call_id, aor=aor, since=since, until=until, max_messages=max_messages,
            aliases=names, group=group, learn_names=not no_learned_names, colour_by=colour_by,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not len(result):
        chosen_scope = [
            f"{option} {value}"
            for option, value in (
                ("--call-id", call_id), ("--aor", aor), ("--since", since), ("--until", until)
            )
            if value is not None
        ]
        if chosen_scope:  # a selection that matched nothing is a mistake: say so, status 1
            raise click.ClickException(
                terminal_safe(f"no SIP message matches {' '.join(chosen_scope)}")
            )
        if not quiet:  # a capture without SIP is not the user's mistake: still draw it
            click.echo("sipladder: no SIP message in the capture", err=True)
    try:
        if output is not None:
            result.save(output, chosen, width=width)
            return
        data = result.render(chosen, width=width or shutil.get_terminal_size((120, 24)).columns)
    except (MissingExtraError, ValueError) as exc:  # no extra, or too big for a PNG
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise cannot_write(str(output), exc) from None
    if isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        click.echo(data, nl=False)


# --------------------------------------------------------------------------- lint


@cli.command()
@capture_arguments
@format_option
@click.option(
    "--severity", "min_severity", type=click.Choice(["info", "warning", "error"]),
    default="info", show_default=True,
    help="Report only findings of this severity or worse.",
)
@click.option(
    "--ignore", "ignored", multiple=True, metavar="CODE",
    help="Do not report this code (repeatable; an unknown code is warned about).",
)
@quiet_option
def lint(
    captures: tuple[str, ...], fmt: str, min_severity: str, ignored: tuple[str, ...], quiet: bool
) -> None:
    """RFC 3261 conformance findings per message, transaction and dialog (and the
    capture's own problems), each with a stable code, severity, file, frame and a
    sentence saying what is wrong and what was expected. Exit status 0 when clean,
    1 when anything was found (2 for a usage error).

    Example:

        sipladder lint samples/seed-listings.pcap --severity warning
    """
    from sipladder.analysis.lint import at_least, finding_row, known_codes
    from sipladder.model import Severity
    from sipladder.rows import LINT
    from sipladder.sip.anomalies import closest

    codes = known_codes()
    for code in dict.fromkeys(ignored):
        if code not in codes:  # a warning, not an error: ignoring a code never seen is harmless
            near = closest(code, codes)
            hint = f": did you mean {near}?" if near is not None else ""
            warning = f"sipladder: --ignore {code} is not a known code{hint}"
            click.echo(terminal_safe(warning), err=True)

    # capture problems are findings here: they are not printed on stderr as well, so -q
    # (accepted like on every other command) changes nothing
    capture = open_capture(captures, quiet=True)
    minimum = Severity(min_severity)
    findings = [
        f for f in capture.lint() if at_least(f.severity, minimum) and f.code not in ignored
    ]
    if fmt == "table":
        for finding in findings:
            click.echo(terminal_safe(str(finding)))
        counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
        click.echo(
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
            f" ({counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings,"
            f" {counts[Severity.INFO]} info) in {len(capture)} SIP messages"
        )
    else:
        write_rows(LINT, [finding_row(f) for f in findings], fmt, sys.stdout)
    if findings:
        raise ExitCodeException(1)


# --------------------------------------------------------------------------- stats, plot, report


def bucket_option(func: F) -> F:
    return click.option(
        "--bucket",
        metavar="LENGTH",
        help="Time bucket length: 30s, 1min, 1h (stats: every metric per bucket as well; "
        "plot: one bar per bucket).",
    )(func)


@cli.command()
@capture_arguments
@format_option
@bucket_option
@quiet_option
def stats(captures: tuple[str, ...], fmt: str, bucket: str | None, quiet: bool) -> None:
    """RFC 6076 end-to-end metrics: registration and session request delays, disconnect
    delay, session duration, and the establishment, effectiveness, completion and
    success ratios; over the capture, per caller and callee domain, and per --bucket.

    Example:

        sipladder stats samples/ims-tom-jerry.pcapng --bucket 1min --format csv
    """
    from sipladder.rows import METRICS

    check_bucket(bucket)
    capture = open_capture(captures, quiet)
    write_rows(METRICS, capture.metric_rows(bucket), fmt, sys.stdout)


def _chart_names() -> list[str]:
    from sipladder.render.charts import CHARTS

    return list(CHARTS)


@cli.command()
@click.argument("name", type=click.Choice(_chart_names()), metavar="NAME")
@capture_arguments
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
    help="Image file to write: .png, .svg or .pdf (the suffix chooses the format).",
)
@bucket_option
@quiet_option
def plot(
    name: str, captures: tuple[str, ...], output: str, bucket: str | None, quiet: bool
) -> None:
    """Draw one timing chart (matplotlib: pip install 'sipladder[plot]'). NAME is one of
    setup-delay and registration-delay (histogram and CDF), calls, registrations and
    response-codes (per time bucket, stacked by outcome; --bucket, else chosen for about
    30 bars) and hop-delay (delay each proxy added).

    Example:

        sipladder plot setup-delay samples/ims-tom-jerry.pcapng -o setup.png
    """
    from sipladder.render.charts import FORMATS, save_figure

    fmt = output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if fmt not in FORMATS:
        raise click.BadParameter(
            f"{output!r}: the file name must end in .png, .svg or .pdf", param_hint="-o"
        )
    check_bucket(bucket)
    capture = open_capture(captures, quiet)
    try:
        figure = capture.plot.chart(name, bucket)
    except SipLadderError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        save_figure(figure, output, fmt)
    except OSError as exc:
        raise cannot_write(output, exc) from None


@cli.command()
@capture_arguments
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
    help="HTML file to write.",
)
@click.option("--title", default=None, help="Heading of the report (default: the file names).")
@click.option(
    "--max-ladders", default=100, show_default=True, type=click.IntRange(min=0),
    help="Include ladders for at most this many calls and addresses of record.",
)
@bucket_option
@quiet_option
def report(
    captures: tuple[str, ...],
    output: str,
    title: str | None,
    max_ladders: int,
    bucket: str | None,
    quiet: bool,
) -> None:
    """Write one self-contained HTML report (opens offline, nothing loaded from elsewhere):
    summary, sortable and filterable calls and registrations tables whose rows open their
    ladder (click an arrow for the whole message), RFC 6076 metrics, charts, messages
    with anomalies and lint findings.

    Example:

        sipladder report samples/ims-tom-jerry.pcapng -o report.html
    """

    check_bucket(bucket)
    capture = open_capture(captures, quiet)
    html = capture.report(title=title, bucket=bucket, max_ladders=max_ladders)
    with open(output, "w", encoding="utf-8") as out:
        out.write(html)


def main() -> None:
    """The ``sipladder`` program: the command line, then the end of the process."""
    try:
        cli(prog_name="sipladder")
    finally:
        # The process ends here. Its last cyclic collections would walk every object still
        # alive (the loaded modules alone hold tens of thousands), only for the system to
        # take the memory back: about a tenth of a second after the output was complete.
        # Frozen objects are left out of them; reference counting still frees what it
        # frees, and the standard streams are flushed as always.
        gc.freeze()


if __name__ == "__main__":
    main()
