"""The HTML report: one self-contained page about a whole capture, to open offline or send.

Summary, sortable and filterable calls and registrations tables, a ladder per call and
per address of record that opens on click (the SVG ladders of
:mod:`sipladder.render.svg`, with the message panel of :mod:`sipladder.render.html`),
the RFC 6076 metrics, the charts of :mod:`sipladder.render.charts` (PNG inlined as
``data:`` URIs), the messages with anomalies and the lint findings.

Nothing is loaded from elsewhere: the CSS and the one script are inline, and a
Content-Security-Policy allows that script (by hash), inline styles and ``data:``
images, nothing else. Every text from the capture goes through
:func:`~sipladder.render.escape.xml_text`; the script only ever writes message text
with ``textContent``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sipladder.output import plain_text
from sipladder.render.escape import xml_text
from sipladder.rows import CALLS, LINT, METRICS, REGISTRATIONS, ColumnKind, Row, Table

if TYPE_CHECKING:
    from sipladder.capture import Capture

#: Ladders drawn into the report at most (each adds its SVG to the file).
MAX_LADDERS = 100

_SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v === null) v = cell.textContent;
    var n = Number(v);
    return v !== "" && !isNaN(n) ? [0, n, ""] : [v === "" ? 2 : 1, 0, v.toLowerCase()];
  }
  document.querySelectorAll("table.data").forEach(function (table) {
    var body = table.tBodies[0];
    table.querySelectorAll("th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var down = th.getAttribute("aria-sort") === "ascending";
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          var c = x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
          return down ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll("input.filter").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var count = document.getElementById(input.getAttribute("data-count"));
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var text = row.textContent.toLowerCase();
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      if (count) count.textContent = shown + " shown";
    });
  });
  var view = document.getElementById("ladder-view");
  var title = document.getElementById("ladder-title");
  var panel = document.getElementById("detail");
  var open = null, rows = [], current = -1;
  function show(i) {
    if (i < 0 || i >= rows.length) return;
    if (current >= 0) rows[current].classList.remove("sel");
    current = i;
    rows[i].classList.add("sel");
    var t = rows[i].querySelector("title");
    panel.textContent = t ? t.textContent : "";
  }
  function openLadder(id, label, tr) {
    var ladder = document.getElementById(id);
    if (!ladder) return;
    if (open) open.hidden = true;
    document.querySelectorAll("tr.open").forEach(function (r) { r.classList.remove("open"); });
    tr.classList.add("open");
    ladder.hidden = false;
    open = ladder;
    view.hidden = false;
    title.textContent = label;
    panel.textContent = "Click an arrow to see its whole message (\\u2191/\\u2193 move).";
    rows = Array.prototype.slice.call(ladder.querySelectorAll("g.msg"));
    current = -1;
    view.scrollIntoView({block: "start"});
  }
  document.querySelectorAll("tr[data-ladder]").forEach(function (tr) {
    tr.addEventListener("click", function () {
      openLadder(tr.getAttribute("data-ladder"), tr.getAttribute("data-label"), tr);
    });
  });
  document.querySelectorAll("div.ladder").forEach(function (ladder) {
    ladder.addEventListener("click", function (e) {
      var g = e.target.closest ? e.target.closest("g.msg") : null;
      if (g) show(rows.indexOf(g));
    });
  });
  document.getElementById("ladder-close").addEventListener("click", function () {
    view.hidden = true;
    if (open) open.hidden = true;
    open = null;
  });
  document.addEventListener("keydown", function (e) {
    if (view.hidden || e.target.tagName === "INPUT") return;
    if (e.key === "ArrowDown" || e.key === "j") { show(current + 1); e.preventDefault(); }
    if (e.key === "ArrowUp" || e.key === "k") { show(current - 1); e.preventDefault(); }
  });
})();
"""

_CSS = """
body{margin:0;font:14px/1.4 system-ui,-apple-system,Segoe UI,DejaVu Sans,sans-serif;color:#212121}
header{background:#263238;color:#fff;padding:12px 20px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#cfd8dc;font-size:13px}
nav{position:sticky;top:0;z-index:2;background:#eceff1;border-bottom:1px solid #cfd8dc;
 padding:6px 20px}
nav a{margin-right:16px;color:#1565c0;text-decoration:none}
main{padding:0 20px 40px}
h2{font-size:17px;margin:26px 0 8px;border-bottom:2px solid #eceff1;padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #cfd8dc;border-radius:6px;padding:8px 12px;min-width:130px}
.card b{display:block;font-size:20px}
.card span{color:#607d8b;font-size:12px}
.scroll{max-height:420px;overflow:auto;border:1px solid #cfd8dc}
table.data{border-collapse:collapse;width:100%;font-size:12.5px}
table.data th{position:sticky;top:0;background:#f5f5f5;cursor:pointer;text-align:left;
 padding:4px 8px;border-bottom:1px solid #cfd8dc;white-space:nowrap;user-select:none}
table.data th[aria-sort=ascending]::after{content:" \\25B2"}
table.data th[aria-sort=descending]::after{content:" \\25BC"}
table.data td{padding:3px 8px;border-bottom:1px solid #eee;white-space:nowrap;
 max-width:360px;overflow:hidden;text-overflow:ellipsis}
table.data td.num{text-align:right;font-variant-numeric:tabular-nums}
tr[data-ladder]{cursor:pointer}
tr[data-ladder]:hover{background:#e3f2fd}
tr.open{background:#bbdefb}
.tools{margin:6px 0;display:flex;gap:12px;align-items:center;color:#607d8b;font-size:12px}
.tools input{padding:4px 8px;width:320px;border:1px solid #b0bec5;border-radius:4px}
.s-completed,.s-registered{color:#2e7d32}.s-rejected,.s-failed,.s-error{color:#c62828}
.s-cancelled,.s-warning{color:#ef6c00}.s-incomplete{color:#757575}
#ladder-view{border:2px solid #90caf9;border-radius:6px;margin-top:16px;scroll-margin-top:44px}
#ladder-view:not([hidden])+p{display:none}
section{scroll-margin-top:40px}
#ladder-view .bar{display:flex;justify-content:space-between;align-items:center;
 background:#e3f2fd;padding:6px 10px}
#ladder-view .bar b{font-family:DejaVu Sans Mono,Menlo,Consolas,monospace;font-size:13px}
#ladder-close{border:1px solid #90caf9;background:#fff;border-radius:4px;cursor:pointer}
#ladder-view .body{display:flex;height:70vh}
#ladders{flex:1 1 auto;overflow:auto}
#detail{flex:0 0 38%;max-width:720px;margin:0;padding:10px;overflow:auto;font-size:12px;
 font-family:DejaVu Sans Mono,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;
 border-left:1px solid #cfd8dc;background:#fafafa}
g.msg{cursor:pointer}
g.msg.sel .arrow{stroke-width:3.5}
g.msg.sel .lbl{font-weight:bold}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
.charts img{width:100%;border:1px solid #eceff1}
.muted{color:#757575}
"""


# --------------------------------------------------------------------------- pieces


def _cell(kind: ColumnKind, value: Any) -> str:
    text = xml_text(plain_text(kind, value, for_terminal=True)) if value is not None else ""
    numeric = kind in (ColumnKind.INT, ColumnKind.FLOAT, ColumnKind.TIME,
                       ColumnKind.DURATION_MS, ColumnKind.DURATION_S)
    if value is None:
        return '<td data-v=""></td>'
    if numeric:
        return f'<td class="num" data-v="{value}">{text}</td>'
    css = f' class="s-{xml_text(str(value))}"' if kind is ColumnKind.STR and str(
        value
    ).isalpha() else ""
    return f"<td{css}>{text}</td>"


def _table(
    table_id: str,
    table: Table,
    rows: Sequence[Row],
    names: Sequence[str],
    attrs: Callable[[int, Row], str] | None = None,
    filter_hint: str = "filter",
) -> str:
    """A sortable table with a filter box; ``attrs`` adds attributes to each ``<tr>``."""
    columns = [c for c in table.columns if c.name in names]
    head = "".join(f'<th title="{xml_text(c.doc)}">{xml_text(c.name)}</th>' for c in columns)
    body = []
    for i, row in enumerate(rows):
        extra = attrs(i, row) if attrs else ""
        cells = "".join(_cell(c.kind, row.get(c.name)) for c in columns)
        body.append(f"<tr{extra}>{cells}</tr>")
    count = f"{table_id}-count"
    return (
        f'<div class="tools"><input class="filter" type="search" data-table="{table_id}" '
        f'data-count="{count}" placeholder="{xml_text(filter_hint)}" '
        f'aria-label="filter {table_id}"><span id="{count}">{len(rows)} '
        f'row{"" if len(rows) == 1 else "s"}</span>'
        "<span>click a column to sort</span></div>"
        f'<div class="scroll"><table class="data" id="{table_id}"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _card(value: object, label: str) -> str:
    return f'<div class="card"><b>{xml_text(str(value))}</b><span>{xml_text(label)}</span></div>'


def _clock(ns: int | None) -> str:
    if ns is None:
        return "-"
    moment = datetime.fromtimestamp(ns // 10**9, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f".{(ns % 10**9) // 1_000_000:03d} UTC"


def _summary(capture: Capture) -> str:
    s = capture.summary()
    calls: dict[str, Any] = s["calls"]  # type: ignore[assignment]
    regs: dict[str, Any] = s["registrations"]  # type: ignore[assignment]
    times = [m.ts_ns for m in capture.records]

    def ms(value: object) -> str:
        return "-" if value is None else f"{value} ms"

    cards = [
        _card(s["sip_messages"], "SIP messages"),
        _card(s["frames"], "frames read"),
        _card(f"{s['span_s']} s", "time span"),
        _card(calls["total"], "calls"),
        _card(ms(calls["median_pdd_ms"]), "median setup delay"),
        _card(regs["total"], "registration attempts"),
        _card(ms(regs["median_delay_ms"]), "median registration delay"),
        _card(s["transactions"], "transactions"),
        _card(s["dialogs"], "dialogs"),
        _card(s["retransmissions"], "retransmissions"),
    ]
    states = ", ".join(f"{k} {v}" for k, v in calls["by_state"].items() if v) or "none"
    reg_states = ", ".join(f"{k} {v}" for k, v in regs["by_state"].items() if v) or "none"
    methods = ", ".join(f"{k} {v}" for k, v in s["methods"].items())  # type: ignore[attr-defined]
    statuses = ", ".join(f"{k} {v}" for k, v in s["statuses"].items())  # type: ignore[attr-defined]
    return (
        f'<div class="cards">{"".join(cards)}</div>'
        f"<p>From {xml_text(_clock(min(times, default=None)))} to "
        f"{xml_text(_clock(max(times, default=None)))}.<br>"
        f"Calls: {xml_text(states)}. Registrations: {xml_text(reg_states)}.<br>"
        f"Requests: {xml_text(methods or 'none')}. Responses: {xml_text(statuses or 'none')}.</p>"
    )


def _charts(capture: Capture, bucket: str | int | None) -> str:
    try:
        from sipladder.render.charts import CHARTS, figure_bytes
    except ImportError:  # pragma: no cover - the module itself imports nothing optional
        return ""
    from sipladder.errors import MissingExtraError

    images = []
    try:
        for name in CHARTS:
            figure = capture.plot.chart(name, bucket)
            data = base64.b64encode(figure_bytes(figure, "png", dpi=80)).decode()
            images.append(
                f'<img id="chart-{name}" alt="{name} chart" src="data:image/png;base64,{data}">'
            )
    except MissingExtraError as exc:
        return f'<p class="muted">{xml_text(str(exc))}</p>'
    return f'<div class="charts">{"".join(images)}</div>'


def _metrics(capture: Capture, bucket: str | int | None) -> str:
    rows = capture.metric_rows(bucket)
    names = ["metric", "title", "section", "scope", "group", "unit", "value", "samples",
             "numerator", "median_ms", "p95_ms", "max_ms"]
    return _table("metrics", METRICS, rows, names, filter_hint="filter: e.g. capture, srd")


def _anomalies(capture: Capture) -> str:
    rows = [r for r in capture.message_rows() if r["anomalies"]]
    if not rows:
        return '<p class="muted">No message has an anomaly.</p>'
    from sipladder.rows import MESSAGES

    names = ["frame", "ts", "src", "dst", "method", "status", "call_id", "anomalies"]
    return _table("anomalies", MESSAGES, rows, names)


def _lint(capture: Capture) -> str:
    rows = capture.lint_rows()
    if not rows:
        return '<p class="muted">sipladder lint found nothing.</p>'
    return _table("lint", LINT, rows, [c.name for c in LINT.columns])


# --------------------------------------------------------------------------- ladders


def _ladder_div(div_id: str, svg: str) -> str:
    svg = svg[svg.index("<svg") :]  # an inline SVG takes no XML declaration
    return f'<div class="ladder" id="{div_id}" hidden>{svg}</div>'


def render_report(
    capture: Capture,
    *,
    title: str | None = None,
    bucket: str | int | None = None,
    max_ladders: int = MAX_LADDERS,
) -> str:
    """The whole report as one HTML string (deterministic for the same capture)."""
    from sipladder.render.svg import render_svg

    call_rows = capture.call_rows()
    reg_rows = capture.registration_rows()
    ladders: list[str] = []
    call_ladder: dict[int, str] = {}
    for i, row in enumerate(call_rows):
        if len(ladders) >= max_ladders:
            break
        ladder = capture.ladder(call_id=str(row["call_id"]))
        call_ladder[i] = f"ladder-c{i}"
        ladders.append(_ladder_div(f"ladder-c{i}", render_svg(ladder.layout)))
    aor_ladder: dict[str, str] = {}
    for row in reg_rows:
        aor = row["aor"]
        if aor is None or aor in aor_ladder or len(ladders) >= max_ladders:
            continue
        div_id = f"ladder-r{len(aor_ladder)}"
        aor_ladder[str(aor)] = div_id
        ladders.append(_ladder_div(div_id, render_svg(capture.ladder(aor=str(aor)).layout)))

    def call_attrs(i: int, row: Row) -> str:
        if i not in call_ladder:
            return ""
        label = f"Call {row['call_id']}"
        return f' data-ladder="{call_ladder[i]}" data-label="{xml_text(label)}"'

    def reg_attrs(i: int, row: Row) -> str:
        div_id = aor_ladder.get(str(row["aor"]))
        if div_id is None:
            return ""
        label = f"Registrations of {row['aor']}"
        return f' data-ladder="{div_id}" data-label="{xml_text(label)}"'

    drawn = len(call_ladder)
    ladder_note = "" if drawn == len(call_rows) else (
        f'<p class="muted">Ladders are included for the first {drawn} of {len(call_rows)} '
        "calls (sipladder report --max-ladders N); draw the others with "
        "sipladder ladder --call-id ID.</p>"
    )
    calls_table = _table(
        "calls", CALLS, call_rows,
        ["call_id", "caller", "callee", "state", "final_status", "start", "pdd_ms",
         "answer_ms", "release_ms", "duration_s", "messages", "retransmissions"],
        call_attrs, "filter: e.g. rejected 486, or a Call-ID",
    )
    regs_table = _table(
        "registrations", REGISTRATIONS, reg_rows,
        ["aor", "contact", "kind", "state", "final_status", "challenged", "delay_ms",
         "expires", "start", "messages"],
        reg_attrs, "filter: e.g. failed, or an AOR",
    )
    files = ", ".join(capture.paths) or "(no file)"
    heading = title or f"sipladder report: {files}"
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           f"script-src 'sha256-{digest}'")
    sections = [
        ("summary", "Summary", _summary(capture)),
        ("calls-section", f"Calls ({len(call_rows)})",
         "<p class=\"muted\">Click a call to open its ladder; click an arrow for the whole "
         f"message.</p>{ladder_note}{calls_table}"),
        ("registrations-section", f"Registrations ({len(reg_rows)})",
         '<p class="muted">Click an attempt to open the ladder of its address of record.</p>'
         + regs_table),
        ("ladder-section", "Ladder",
         '<div id="ladder-view" hidden><div class="bar"><b id="ladder-title"></b>'
         '<button id="ladder-close" type="button">close</button></div><div class="body">'
         f'<div id="ladders">{"".join(ladders)}</div><pre id="detail"></pre></div></div>'
         '<p class="muted">Open a call or a registration above.</p>'),
        ("metrics-section", "RFC 6076 metrics", _metrics(capture, bucket)),
        ("charts-section", "Charts", _charts(capture, bucket)),
        ("anomalies-section", "Messages with anomalies", _anomalies(capture)),
        ("lint-section", "Lint findings", _lint(capture)),
    ]
    nav = "".join(f'<a href="#{sid}">{xml_text(name.split(" (")[0])}</a>'
                  for sid, name, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{xml_text(name)}</h2>{html}</section>\n'
                   for sid, name, html in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{xml_text(heading)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{xml_text(heading)}</h1><p>{len(capture)} SIP messages from "
        f"{xml_text(files)}; made by sipladder</p></header>\n"
        f"<nav>{nav}</nav>\n<main>\n{body}</main>\n"
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )
