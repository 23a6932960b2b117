"""HTML report: self-contained, hostile capture text stays text, and it works in a real
browser (headless Chromium driven by Playwright): no console errors, a call opens its
ladder, an arrow shows its message, tables sort and filter."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from ladder_factory import call_messages

import sipladder
from sipladder.capture import Capture
from sipladder.cli import cli
from sipladder.render.report import _SCRIPT, render_report

ROOT = Path(__file__).resolve().parents[2]
IMS = str(ROOT / "samples" / "ims-tom-jerry.pcapng")
CHROMIUM = "/usr/bin/chromium"
EVIL_ID = "</script><script>alert(1)</script><img src=x onerror=alert(2)>&amp;\"'"
EVIL = (("X-Evil", "</script><script>alert(3)</script>"),)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


@pytest.fixture(scope="module")
def ims_html() -> str:
    return sipladder.load(IMS).report()


@pytest.fixture(scope="module")
def evil_html() -> str:
    messages = [
        dataclasses.replace(m, sip=dataclasses.replace(m.sip, call_id=EVIL_ID))
        for m in call_messages(extra=EVIL)
    ]
    return render_report(Capture.from_messages(messages, ["<evil>.pcap"]))


def test_one_script_ours_allowed_by_hash_nothing_fetched(ims_html: str) -> None:
    parser = _Collect()
    parser.feed(ims_html)
    assert [t for t, _ in parser.tags if t == "script"] == ["script"]
    assert parser.scripts == [_SCRIPT]
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = next(a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv"))
    assert csp == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'"
    )
    for tag, attrs in parser.tags:
        if "src" in attrs:
            assert tag == "img" and (attrs["src"] or "").startswith("data:image/png;base64,")
        if "href" in attrs:
            assert tag == "a" and (attrs["href"] or "").startswith("#")
    assert "innerHTML" not in _SCRIPT and "textContent" in _SCRIPT


def test_ims_report_has_every_part(ims_html: str) -> None:
    parser = _Collect()
    parser.feed(ims_html)
    ids = {a.get("id") for _, a in parser.tags}
    for wanted in ("summary", "calls", "registrations", "metrics", "ladder-c0", "ladder-r0",
                   "detail", "chart-setup-delay", "chart-hop-delay", "lint-section",
                   "anomalies-section"):
        assert wanted in ids, wanted
    text = "".join(parser.text)
    assert "apb03a0s09dkjdfoaidy49555" in text  # the call's Call-ID in the calls table
    assert "208.600" in text  # its setup delay (samples/README.md: PDD 208.6 ms)
    assert "Session Establishment Ratio" in text


def test_hostile_capture_text_stays_text(evil_html: str) -> None:
    parser = _Collect()
    parser.feed(evil_html)
    assert parser.scripts == [_SCRIPT]
    assert [a for t, a in parser.tags if t == "img" and "onerror" in a] == []
    text = "".join(parser.text)
    assert EVIL_ID in text  # shown, literally, in the calls table
    assert "<evil>.pcap" in text


def test_max_ladders_limits_and_says_so() -> None:
    capture = Capture.from_messages(call_messages())
    assert 'class="ladder"' in render_report(capture)
    html = render_report(capture, max_ladders=0)
    assert 'class="ladder"' not in html
    assert "Ladders are included for the first 0 of 1 calls" in html


def test_cli_writes_the_report_same_bytes_as_python(tmp_path: Path, ims_html: str) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", IMS, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == ims_html


# --------------------------------------------------------------------------- in a browser

BROWSER_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def fresh_asyncio() -> Iterator[None]:
    """Playwright starts its driver with asyncio subprocesses; pyshark (tests of the tshark
    engine) leaves a child watcher bound to a closed loop in the global policy, so this
    test gets a policy of its own."""
    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    yield
    asyncio.set_event_loop_policy(old)


@pytest.mark.usefixtures("fresh_asyncio")
def test_report_in_chromium(tmp_path: Path, ims_html: str) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is needed (.ci/run installs it)"
    page_path = tmp_path / "report.html"
    page_path.write_text(ims_html, encoding="utf-8")
    errors: list[str] = []
    requests: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            assert page.locator("#ladder-view").is_hidden()

            # Filter: a word no row has hides every row, clearing shows them again.
            page.fill("input[data-table=calls]", "no-such-call")
            assert page.locator("#calls tbody tr:visible").count() == 0
            page.fill("input[data-table=calls]", "")
            assert page.locator("#calls tbody tr:visible").count() == 1

            # Sort the registrations by AOR, then the other way round.
            page.click("#registrations th:has-text('aor')")
            assert page.get_attribute("#registrations th:has-text('aor')", "aria-sort") == (
                "ascending"
            )

            page.click("#calls tbody tr[data-ladder]")
            ladder = page.locator("#ladder-c0")
            assert ladder.is_visible()
            assert page.locator("#ladder-view").is_visible()
            assert "apb03a0s09dkjdfoaidy49555" in page.inner_text("#ladder-title")
            arrows = ladder.locator("g.msg")
            assert arrows.count() > 10
            arrows.nth(0).locator("text.lbl").click()
            detail = page.inner_text("#detail")
            assert "\n\nINVITE sip:jerry@" in detail  # a header line, then the message
            assert "Call-ID: apb03a0s09dkjdfoaidy49555" in detail
            page.keyboard.press("ArrowDown")
            assert page.inner_text("#detail") != detail
            page.screenshot(path=str(tmp_path / "report.png"))
            page.click("#registrations tbody tr[data-ladder]")
            assert page.locator("#ladder-r0").is_visible() and ladder.is_hidden()
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_without_matplotlib_the_report_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    html = render_report(Capture.from_messages(call_messages()))
    assert "pip install &#39;sipladder[plot]&#39;" in html
    assert "<img" not in html and 'class="ladder"' in html
