"""Mermaid and PlantUML backends: structure checked line by line; hostile text cannot
break out of a message."""

from __future__ import annotations

import re

import pytest
from ladder_factory import VIA_A, A, P, call_correlation, call_messages, message, sip

from sipladder.layout import build_layout
from sipladder.render.mermaid import mermaid_text, render_mermaid
from sipladder.render.plantuml import plantuml_text, render_plantuml

HOSTILE_REASON = 'Ringing; %% comment\n@enduml #x \\n "q" <b>bold</b> :colon'


def _layout():  # type: ignore[no-untyped-def]
    messages = call_messages()
    evil = sip(
        f"SIP/2.0 180 {HOSTILE_REASON}".replace("\n", " "), cseq=(1, "INVITE"), vias=(VIA_A,)
    )
    messages.append(message(14, 6000, P, A, evil))
    return build_layout(messages, call_correlation(), aliases={"192.0.2.10": 'Proxy "1"; #2'})


MERMAID_LINE = re.compile(
    r"(sequenceDiagram"
    r"|    %% [^\n]*"
    r"|    participant C\d+ as (?:#\d+;|[^;\n])+"
    r"|    C\d+(->>|-->>)C\d+: (?:#\d+;|[^;\n])+"
    r"|    Note right of C\d+: (?:#\d+;|[^;\n])+)"
)


def test_mermaid_structure() -> None:
    text = render_mermaid(_layout())
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    for line in lines:
        assert MERMAID_LINE.fullmatch(line), line
    participants = set(re.findall(r"participant (C\d+)", text))
    used = set(re.findall(r"(C\d+)(?:->>|-->>)", text)) | set(re.findall(r">(C\d+):", text))
    assert used <= participants == {"C0", "C1", "C2"}
    messages = [line for line in lines if "->>" in line]
    assert len(messages) == 15
    assert sum("-->>" in line for line in messages) == 1  # the retransmission
    assert sum(line.startswith("    Note") for line in lines) == 3  # PDD, answer, release
    # Capture text never brings its own ';', '#' (outside entity codes), '%%' or '<'.
    for line in messages:
        body = line.split(": ", 1)[1]
        assert not re.search(r"[;<>%\"\\]", re.sub(r"#\d+;", "", body)), body


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a;b", "a#59;b"), ("#", "#35;"), ("x\ny", "x y"), ("<b>", "#60;b#62;"), ("ok 1.0", "ok 1.0")],
)
def test_mermaid_text(text: str, expected: str) -> None:
    assert mermaid_text(text) == expected


PLANTUML_LINE = re.compile(
    r"(@startuml|@enduml|title [^\n]+|skinparam [^\n]+|header [^\n]+"
    r'|participant "[^"\n]+" as C\d+'
    r"|C\d+ -\[#[0-9A-F]{6}\]-?> C\d+ : [^\n]+"
    r"|note right of C\d+ : [^\n]+)"
)


def test_plantuml_structure() -> None:
    text = render_plantuml(_layout())
    lines = text.splitlines()
    assert lines[0] == "@startuml" and lines[-1] == "@enduml"
    assert lines.count("@enduml") == 1
    for line in lines:
        assert PLANTUML_LINE.fullmatch(line), line
    messages = [line for line in lines if re.match(r"C\d+ -", line)]
    assert len(messages) == 15
    assert sum("]->" in line for line in messages) == 1  # dashed retransmission
    for line in messages:
        body = line.split(" : ", 1)[1]
        assert not re.search(r"[;<>@\"\\#~*&$]", re.sub(r"<U\+[0-9A-F]{4,6}>", "", body)), body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@enduml", "<U+0040>enduml"),
        ('"', "<U+0022>"),
        ("\\n", "<U+005C>n"),
        ("<b>", "<U+003C>b<U+003E>"),
        ("$1", "<U+0024>1"),
        ("😀", "<U+1F600>"),
    ],
)
def test_plantuml_text(text: str, expected: str) -> None:
    assert plantuml_text(text) == expected


def test_deterministic() -> None:
    assert render_mermaid(_layout()) == render_mermaid(_layout())
    assert render_plantuml(_layout()) == render_plantuml(_layout())
