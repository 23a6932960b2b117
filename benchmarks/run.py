#!/usr/bin/env python3
"""Time sipladder against sngrep and tshark on the same captures, in the same run.

For each capture, each tool runs ``--rounds`` times (tshark ``--tshark-rounds``,
as it is slow), the rounds going round the tools (A B C, A B C: all meet the same
drift of a shared machine's load); the table shows the best wall time, the best CPU
time (user + system, less disturbed than wall time when other people share the
machine), the peak memory (the largest
resident set of the child and its children, from ``os.wait4`` and a poll of
``/proc`` that sums a whole process tree, whichever is larger) and the ratios to
sngrep. Captures are built with ``make_capture.py`` (synth engine, fixed seed)
unless given with ``--capture``.

The tools:

* ``sipladder``: ``python -m sipladder calls FILE --format json --quiet`` (full
  analysis; ``--command messages`` for the capture-reading stage alone), output
  written to a file whose SHA-256 is checked against ``expected-digest.txt`` for the
  synth captures (so an optimisation that changes the output is caught); ``calls``
  forks a worker per core for captures over 8 MB;
* ``sipladder-j1`` (not run by default): the same with ``--jobs 1``, one process; its
  output must have the same digest;
* ``sipladder-pure`` (not run by default): the same with ``SIPLADDER_PURE=1``, without
  the compiled accelerator (sipladder/accel.py); same digest again. The first line
  printed says whether the accelerator is in use for the other variants;
* ``sngrep``: ``sngrep -N -q -F -l 100000000 -I FILE`` (no interface, no
  dialog printing, no config file, and a dialog limit above the default 20,000 so
  that it keeps every call; ``--sngrep-output`` adds ``-O /tmp/x.pcap``);
* ``tshark``: ``tshark -q -z sip,stat -r FILE``.

Example::

    python benchmarks/run.py --messages 24000,240000 --rounds 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DIGESTS = HERE / "expected-digest.txt"


@dataclass
class Result:
    tool: str
    capture: str
    walls: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    status: int = 0
    digest: str | None = None
    output: Path | None = None

    @property
    def wall(self) -> float:
        return min(self.walls)

    @property
    def cpu(self) -> float:
        return min(self.cpus)

    @property
    def peak_mib(self) -> float:
        return max(self.peaks_kib) / 1024


def _tree_rss_kib(root: int) -> int:
    """Resident set of ``root`` and all its descendants, KiB, from /proc (0 if gone)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


def measure(cmd: list[str], stdout_path: str | None, cwd: Path) -> tuple[float, float, int, int]:
    """Run ``cmd``; return (wall seconds, CPU seconds (user + system), peak KiB, exit status)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    peak_tree = 0
    done = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=cwd
    )

    def poll() -> None:
        nonlocal peak_tree
        while not done.wait(0.05):
            peak_tree = max(peak_tree, _tree_rss_kib(proc.pid))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout_path:
        out.close()  # type: ignore[union-attr]
    # ru_maxrss is KiB on Linux: the largest single process among the child and its reaped
    # descendants; the /proc poll catches several processes alive at once.
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, max(usage.ru_maxrss, peak_tree), proc.returncode


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sipladder_has(command: str) -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "sipladder", command, "--help"], cwd=ROOT, capture_output=True
    )
    return probe.returncode == 0


def commands(args: argparse.Namespace, capture: str, command: str) -> dict[str, list[str]]:
    sngrep = ["sngrep", "-N", "-q", "-F", "-l", "100000000", "-I", capture]
    if args.sngrep_output:
        sngrep += ["-O", str(Path(tempfile.gettempdir()) / "sipladder-bench-sngrep.pcap")]
    sipladder = [sys.executable, "-m", "sipladder", command, capture, "--format", "json", "--quiet"]
    return {
        "sipladder": sipladder,
        # one process (calls forks a worker per core by default)
        "sipladder-j1": sipladder + (["--jobs", "1"] if command == "calls" else []),
        # without the compiled accelerator
        "sipladder-pure": ["env", "SIPLADDER_PURE=1", *sipladder],
        "sngrep": sngrep,
        "tshark": ["tshark", "-q", "-z", "sip,stat", "-r", capture],
    }


def synth_capture(messages: int, seed: int) -> Path:
    path = OUT / f"synth-s{seed}-{messages}.pcap"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_capture.py"),
                "-n",
                str(messages),
                "--seed",
                str(seed),
                "-o",
                str(path),
            ],
            check=True,
        )
    return path


def load_digests() -> dict[str, str]:
    table: dict[str, str] = {}
    if DIGESTS.exists():
        for line in DIGESTS.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, digest = line.rsplit(None, 1)
                table[key] = digest
    return table


def tshark_counts(capture: str) -> dict[str, object]:
    """Counts computed from tshark's fields, independently of sipladder, for the
    cross-check: SIP messages; and for the Call-IDs with an INVITE, how many, their
    messages, their final status (first final response to an INVITE) and their state
    by the README's definitions (a BYE after a 2xx: completed; a 2xx: answered; a
    CANCEL: cancelled; 3xx: redirected; 4xx-6xx: rejected; none: incomplete)."""
    fields = ["sip.Call-ID", "sip.Method", "sip.CSeq.method", "sip.Status-Code"]
    cmd = ["tshark", "-r", capture, "-Y", "sip", "-T", "fields", "-E", "separator=|"]
    for name in fields:
        cmd += ["-e", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    messages = 0
    per_call: dict[str, dict[str, object]] = {}
    for line in proc.stdout.splitlines():
        messages += 1
        call_id, method, cseq_method, status = (line.split("|") + ["", "", ""])[:4]
        call = per_call.setdefault(
            call_id, {"invite": False, "n": 0, "final": None, "bye": False, "cancel": False}
        )
        call["n"] = int(call["n"]) + 1  # type: ignore[call-overload]
        if method == "INVITE":
            call["invite"] = True
        elif method == "BYE":
            call["bye"] = True
        elif method == "CANCEL":
            call["cancel"] = True
        elif status and cseq_method == "INVITE" and int(status) >= 200 and call["final"] is None:
            call["final"] = int(status)
    states: Counter[str] = Counter()
    finals: Counter[str] = Counter()
    call_messages = 0
    for call in per_call.values():
        if not call["invite"]:
            continue
        call_messages += int(call["n"])  # type: ignore[call-overload]
        final = call["final"]
        finals[str(final)] += 1
        if isinstance(final, int) and 200 <= final < 300:
            state = "completed" if call["bye"] else "answered"
        elif call["cancel"]:
            state = "cancelled"
        elif isinstance(final, int):
            state = "redirected" if final < 400 else "rejected"
        else:
            state = "incomplete"
        states[state] += 1
    return {
        "messages": messages,
        "calls": sum(states.values()),
        "call_messages": call_messages,
        "states": dict(sorted(states.items())),
        "final_status": dict(sorted(finals.items())),
    }


def sipladder_counts(output: Path, command: str) -> dict[str, object]:
    rows = json.loads(output.read_text())
    if command == "messages":
        return {"messages": len(rows)}
    states = Counter(r["state"] for r in rows)
    finals = Counter(str(r["final_status"]) for r in rows)
    return {
        "calls": len(rows),
        "call_messages": sum(r["messages"] for r in rows),
        "states": dict(sorted(states.items())),
        "final_status": dict(sorted(finals.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages",
        default="24000,240000",
        help="comma-separated synth capture sizes (SIP messages)",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--capture",
        action="append",
        default=[],
        help="an existing capture to time instead of synth ones (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tshark-rounds", type=int, default=1)
    parser.add_argument("--tools", default="sipladder,sngrep,tshark")
    parser.add_argument(
        "--command",
        choices=["auto", "calls", "messages"],
        default="auto",
        help="sipladder command (auto: calls once it exists, else messages)",
    )
    parser.add_argument(
        "--sngrep-output",
        action="store_true",
        help="let sngrep also write a pcap (-O), as in the issue's command line",
    )
    parser.add_argument(
        "--cross-check",
        action="store_true",
        help="compare sipladder's message/call counts with tshark's",
    )
    parser.add_argument(
        "--update-digest",
        action="store_true",
        help="record the sipladder output digests (after a cross-check!)",
    )
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)

    version = subprocess.run(
        [sys.executable, "-m", "sipladder", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    print(f"# {version.stdout.strip() or version.stderr.strip()}", file=sys.stderr)
    command = args.command
    if command == "auto":
        command = "calls" if sipladder_has("calls") else "messages"
    tools = []
    for tool in (t for t in args.tools.split(",") if t):
        if not tool.startswith("sipladder") and shutil.which(tool) is None:
            print(f"run.py: {tool} is not installed; leaving it out", file=sys.stderr)
        else:
            tools.append(tool)
    OUT.mkdir(exist_ok=True)
    if args.capture:
        captures = [(c, None) for c in args.capture]
    else:
        captures = [
            (str(synth_capture(int(n), args.seed)), int(n)) for n in args.messages.split(",")
        ]

    digests = load_digests()
    results: list[Result] = []
    failures = 0
    for capture, n in captures:
        size = os.path.getsize(capture)
        print(f"# {capture}: {size / 1e6:.1f} MB", file=sys.stderr)
        # Rounds go round the tools (A B C, A B C, ...), not tool by tool: on a shared
        # machine the load drifts, and interleaving lets every tool meet the same drift.
        by_tool = {tool: Result(tool, capture) for tool in tools}
        cmds = commands(args, capture, command)
        for r in range(max(args.rounds, args.tshark_rounds)):
            for tool, result in by_tool.items():
                if r >= (args.tshark_rounds if tool == "tshark" else args.rounds):
                    continue
                out = (
                    str(OUT / f"{Path(capture).stem}.{command}.{tool}.json")
                    if tool.startswith("sipladder")
                    else None
                )
                wall, cpu, peak, status = measure(cmds[tool], out, ROOT)
                result.walls.append(wall)
                result.cpus.append(cpu)
                result.peaks_kib.append(peak)
                result.status = result.status or status
                print(
                    f"  {tool:9} round {r + 1}: {wall:7.2f} s wall {cpu:7.2f} s cpu "
                    f"{peak / 1024:8.1f} MiB status {status}",
                    file=sys.stderr,
                )
                if out:
                    result.output = Path(out)
        for result in by_tool.values():
            if result.output:
                result.digest = sha256(result.output)
            results.append(result)
        variants = [r for r in results if r.capture == capture and r.tool.startswith("sipladder")]
        for sip in variants:  # every variant must give the same output (--jobs changes nothing)
            if not (sip.output and sip.status == 0):
                continue
            checked_ok = False
            if args.cross_check and shutil.which("tshark"):
                theirs = tshark_counts(capture)
                ours = sipladder_counts(sip.output, command)
                same = all(ours[k] == theirs[k] for k in ours if k in theirs)
                print(
                    f"  cross-check vs tshark: sipladder {ours} tshark {theirs}: "
                    f"{'OK' if same else 'DIFFERENT'}",
                    file=sys.stderr,
                )
                failures += not same
                checked_ok = same
            if n is not None:
                key = f"{command} synth seed={args.seed} messages={n}"
                if args.update_digest and not checked_ok:
                    print(
                        f"  digest {key}: not recorded (needs a passing --cross-check)",
                        file=sys.stderr,
                    )
                    failures += 1
                elif args.update_digest:
                    digests[key] = sip.digest or ""
                elif key in digests:
                    ok = digests[key] == sip.digest
                    verdict = "OK" if ok else "CHANGED"
                    print(
                        f"  digest {key} ({sip.tool}): {verdict} ({sip.digest})",
                        file=sys.stderr,
                    )
                    failures += not ok
                else:
                    print(f"  digest {key}: none recorded ({sip.digest})", file=sys.stderr)

    if args.update_digest:
        lines = [
            "# sha256 of `sipladder COMMAND CAPTURE --format json --quiet` on synth captures",
            "# (benchmarks/make_capture.py), recorded by run.py --update-digest after",
            "# run.py --cross-check agreed with tshark on the counts.",
        ]
        lines += [f"{k} {v}" for k, v in sorted(digests.items())]
        DIGESTS.write_text("\n".join(lines) + "\n")

    print_table(results, command)
    if args.json:
        Path(args.json).write_text(
            json.dumps([r.__dict__ | {"output": str(r.output)} for r in results], indent=1)
        )
    bad = [r for r in results if r.status != 0]
    for r in bad:
        print(f"run.py: {r.tool} exited with status {r.status} on {r.capture}", file=sys.stderr)
    return 1 if failures or bad else 0


def print_table(results: list[Result], command: str) -> None:
    by_capture: dict[str, dict[str, Result]] = {}
    for r in results:
        by_capture.setdefault(r.capture, {})[r.tool] = r
    print(f"sipladder command: {command}")
    print(
        f"{'capture':24} {'tool':9} {'wall s':>7} {'cpu s':>7} {'peak MiB':>8} "
        f"{'wall/sngrep':>11} {'cpu/sngrep':>10} {'mem/sngrep':>10}"
    )
    for capture, tools in by_capture.items():
        ref = tools.get("sngrep")
        for tool, r in tools.items():
            if ref:
                ratios = (
                    f"{r.wall / ref.wall:11.2f} {r.cpu / max(ref.cpu, 1e-3):10.2f} "
                    f"{r.peak_mib / ref.peak_mib:10.2f}"
                )
            else:
                ratios = f"{'-':>11} {'-':>10} {'-':>10}"
            print(
                f"{Path(capture).name:24} {tool:9} {r.wall:7.2f} {r.cpu:7.2f} {r.peak_mib:8.1f} "
                + ratios
            )
    names = list(by_capture)
    for tool in ("sipladder", "sngrep", "tshark"):
        series = [by_capture[c][tool] for c in names if tool in by_capture[c]]
        if len(series) >= 2:
            growth = " -> ".join(f"{s.wall:.2f}" for s in series)
            print(
                f"growth {tool}: wall {growth} s ({series[-1].wall / series[0].wall:.1f}-fold), "
                f"cpu {series[-1].cpu / max(series[0].cpu, 1e-3):.1f}-fold"
            )


if __name__ == "__main__":
    sys.exit(main())
