"""HTML backend: self-contained page, message panel script, hostile text stays text."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from ladder_factory import call_correlation, call_messages

from sipladder.layout import build_layout
from sipladder.render.html import _SCRIPT, render_html

EVIL = (("X-Evil", "</script><script>alert(1)</script>"), ("X-Img", "<img src=x onerror=alert(2)>"))


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _page() -> str:
    return render_html(build_layout(call_messages(extra=EVIL), call_correlation()))


def test_one_script_ours_and_allowed_by_hash() -> None:
    page = _page()
    parser = _Collect()
    parser.feed(page)
    assert [t for t, _ in parser.tags if t == "script"] == ["script"]
    assert parser.scripts == [_SCRIPT]
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = next(a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv"))
    assert csp == f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    assert not any(t == "img" for t, _ in parser.tags)
    assert "textContent" in _SCRIPT and "innerHTML" not in _SCRIPT


def test_self_contained() -> None:
    parser = _Collect()
    parser.feed(_page())
    for tag, attrs in parser.tags:
        assert not {"src", "href", "xlink:href", "action"} & set(attrs), tag
        if tag == "svg":
            assert attrs["xmlns"] == "http://www.w3.org/2000/svg"  # a name, never fetched
    for tag in ("link", "img", "iframe", "object", "embed", "image", "use"):
        assert all(t != tag for t, _ in parser.tags)
    assert "@import" not in _page() and "url(" not in _page()


def test_embedded_svg_is_xml_and_holds_every_message() -> None:
    page = _page()
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    root = ET.fromstring(svg)
    titles = [
        g.find("{http://www.w3.org/2000/svg}title")
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if g.get("class") == "msg"
    ]
    assert len(titles) == 14
    assert "X-Evil: </script><script>alert(1)</script>" in (titles[0].text or "")  # type: ignore[union-attr]
    assert render_html(build_layout(call_messages(), call_correlation())) == render_html(
        build_layout(call_messages(), call_correlation())
    )
