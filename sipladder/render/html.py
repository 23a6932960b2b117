"""HTML backend: one self-contained page with the SVG ladder and a panel that shows the
whole SIP message of the arrow clicked (arrow keys move to the previous/next message).

Nothing is loaded from elsewhere. The page's only script reads the message from the
arrow's SVG ``<title>`` and writes it with ``textContent``, never as markup; a
Content-Security-Policy allows that one script (by hash) and nothing else.
"""

from __future__ import annotations

import base64
import hashlib

from sipladder.layout import Layout
from sipladder.render.escape import xml_text
from sipladder.render.svg import render_svg

_SCRIPT = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("g.msg"));
  var panel = document.getElementById("detail");
  var current = -1;
  function show(i) {
    if (i < 0 || i >= rows.length) return;
    if (current >= 0) rows[current].classList.remove("sel");
    current = i;
    rows[i].classList.add("sel");
    var title = rows[i].querySelector("title");
    panel.textContent = title ? title.textContent : "";
  }
  rows.forEach(function (g, i) {
    g.addEventListener("click", function () { show(i); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" || e.key === "j") { show(current + 1); e.preventDefault(); }
    if (e.key === "ArrowUp" || e.key === "k") { show(current - 1); e.preventDefault(); }
  });
})();
"""

_CSS = """
html,body{margin:0;height:100%;font-family:DejaVu Sans Mono,Menlo,Consolas,monospace}
body{display:flex}
#ladder{flex:1 1 auto;overflow:auto}
#panel{flex:0 0 38%;max-width:720px;border-left:1px solid #ccc;display:flex;flex-direction:column}
#panel h2{font-size:13px;margin:0;padding:8px 10px;background:#f4f4f4;border-bottom:1px solid #ccc}
#detail{flex:1;margin:0;padding:10px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
g.msg{cursor:pointer}
g.msg.sel .arrow{stroke-width:3.5}
g.msg.sel .lbl{font-weight:bold}
"""


def render_html(layout: Layout) -> str:
    svg = render_svg(layout)
    svg = svg[svg.index("<svg") :]  # an inline SVG takes no XML declaration
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{xml_text(layout.title)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<div id="ladder">\n{svg}</div>\n'
        '<div id="panel"><h2>Click an arrow to see its message (↑/↓ move)</h2>'
        '<pre id="detail"></pre></div>\n'
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )
