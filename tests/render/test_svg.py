"""SVG backend: valid XML, hover text, escaping of hostile capture text, determinism."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ladder_factory import VIA_A, A, P, call_correlation, call_messages, message, sip

from sipladder.layout import build_layout
from sipladder.render.svg import render_svg

SVG = "{http://www.w3.org/2000/svg}"
GOLDEN = Path(__file__).parent / "golden"
HOSTILE = (
    ("X-Evil", "<script>alert(1)</script>"),
    ("Subject", "]]> & \"quoted\" 'single' <!-- -->"),
    ("X-Control", "nul\x00 esc\x1b[31m del\x7f c1\x85 bom\ufeff"),
)


def _svg(**kwargs: object) -> str:
    return render_svg(build_layout(call_messages(), call_correlation(), **kwargs))  # type: ignore[arg-type]


def test_svg_is_valid_xml_with_one_group_per_message() -> None:
    root = ET.fromstring(_svg().encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "msg"]
    assert len(groups) == 14
    assert [g.get("data-frame") for g in groups] == [str(i + 1) for i in range(14)]


def test_hover_title_holds_the_whole_message() -> None:
    root = ET.fromstring(_svg().encode("utf-8"))
    first = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "m0")
    title = first.find(f"{SVG}title")
    assert title is not None and title.text is not None
    text = title.text
    assert text.startswith(
        "frame 1 · 2023-11-14 22:13:20.000 UTC · UDP [2001:db8::a]:5060 → 192.0.2.10:5060\n"
    )
    raw = call_messages()[0].sip.raw.decode().replace("\r\n", "\n").rstrip("\n")
    assert text.endswith(raw)
    retr = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "m5")
    assert "\nretransmission\n" in (retr.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    line = retr.find(f"{SVG}line")
    assert line is not None and "dash" in (line.get("class") or "")


def test_hostile_header_content_is_escaped_and_never_becomes_markup() -> None:
    messages = call_messages(extra=HOSTILE)
    evil_reason = sip(
        "SIP/2.0 180 <img src=x onerror=alert(1)>",
        cseq=(1, "INVITE"),
        vias=(VIA_A,),
        call_id="<b>id</b>",
    )
    messages.append(message(14, 6000, P, A, evil_reason))
    svg = render_svg(
        build_layout(messages, call_correlation(), aliases={"192.0.2.10": "<script>x</script>"})
    )
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    root = ET.fromstring(svg.encode("utf-8"))  # still well-formed XML
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "title", "style", "rect", "text", "tspan", "g", "line", "path"}
    # The text is all there, as text: a reader sees exactly what the capture holds.
    alltext = "".join(root.itertext())
    assert "X-Evil: <script>alert(1)</script>" in alltext
    assert "Subject: ]]> & \"quoted\" 'single' <!-- -->" in alltext
    assert "180 <img src=x onerror=alert(1)>" in alltext
    assert "<script>x</script>" in alltext
    # Characters XML cannot carry are shown, not dropped or passed through.
    assert "nul\\x00 esc\\x1b[31m del\\x7f c1\\x85 bom\ufeff" in alltext
    assert "\x00" not in svg and "\x1b" not in svg


def test_no_script_no_external_reference() -> None:
    svg = _svg()
    for needle in ("<script", "href", "url(", "@import", "<image", "<foreignObject"):
        assert needle not in svg


def test_deterministic_and_modest() -> None:
    one, two = _svg(), _svg()
    assert one == two
    assert len(one.encode()) < 40_000  # 14 messages with their full text


def test_golden_call_svg() -> None:
    """Golden file checked by eye: rendered to PNG with rsvg-convert and inspected
    (columns Alice / proxy.example.com / Bob, dashed 180 retransmission, PDD, answer and
    release brackets on the right, +12 ms and +3 ms on the proxy's lifeline)."""
    svg = _svg(aliases={"2001:db8::a": "Alice", "192.0.2.20:5062": "Bob"})
    assert svg == (GOLDEN / "call.svg").read_text(encoding="utf-8")


def test_message_between_two_ports_of_one_host_is_a_loop() -> None:
    from ladder_factory import B

    from sipladder.model import Endpoint

    b2 = Endpoint(B.ip, 5070)
    extra = message(
        14, 6000, B, b2, sip("OPTIONS sip:b SIP/2.0", cseq=(9, "OPTIONS"), vias=(VIA_A,))
    )
    svg = render_svg(build_layout([*call_messages(), extra], group="host"))
    root = ET.fromstring(svg.encode())
    loop = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "m14")
    arrow = loop.find(f"{SVG}path")
    assert arrow is not None and "arrow" in (arrow.get("class") or "")
    assert arrow.get("d", "").count("H") == 2  # out, down, back
