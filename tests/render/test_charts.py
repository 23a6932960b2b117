"""Charts: each one renders for the IMS sample and for SIPp captures, its files read back,
the same input gives the same bytes, and the drawn data is what the DataFrames say
(computed here with pandas, independently of the chart code)."""

from __future__ import annotations

import io
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
from click.testing import CliRunner

import sipladder
from sipladder.capture import Capture
from sipladder.cli import cli
from sipladder.errors import MissingExtraError
from sipladder.render import charts

ROOT = Path(__file__).resolve().parents[2]
IMS = str(ROOT / "samples" / "ims-tom-jerry.pcapng")
SIPP = [str(ROOT / "tests" / "data" / "sipp" / f"{n}.pcap")
        for n in ("basic", "busy", "cancel", "lossy", "register")]
NAMES = list(charts.CHARTS)


@pytest.fixture(scope="module")
def ims() -> Capture:
    return sipladder.load(IMS)


@pytest.fixture(scope="module")
def sipp() -> Capture:
    return sipladder.load(SIPP)


@pytest.fixture(scope="module", params=["ims", "sipp"])
def capture(request: pytest.FixtureRequest, ims: Capture, sipp: Capture) -> Capture:
    return ims if request.param == "ims" else sipp


def _ms(series: pd.Series) -> list[float]:
    return sorted(series.dropna().dt.total_seconds().mul(1000).round(6).tolist())


def _bars(fig: object) -> dict[str, list[float]]:
    """Label of each stacked BarContainer -> its bar heights."""
    ax = fig.axes[0]  # type: ignore[attr-defined]
    return {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers}


def _bucket_counts(times: pd.Series, labels: pd.Series, bucket: str) -> dict[str, int]:
    frame = pd.DataFrame({"bucket": times.dt.floor(bucket), "label": labels.astype(str)})
    return frame.groupby("label").size().to_dict()


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
@pytest.mark.parametrize("name", NAMES)
def test_every_chart_renders_and_reads_back(
    ims: Capture, sipp: Capture, name: str, fmt: str
) -> None:
    # PNG for both captures; SVG and PDF (slower to write) for one, in turn.
    chosen = [ims, sipp] if fmt == "png" else [(ims, sipp)[NAMES.index(name) % 2]]
    for capture in chosen:
        _check_file(charts.figure_bytes(capture.plot.chart(name), fmt), fmt)


def _check_file(data: bytes, fmt: str) -> None:
    if fmt == "png":
        pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
        assert pixels.shape[0] > 200 and pixels.shape[1] > 500
        assert (pixels[..., :3] < 0.5).any()  # not blank
    elif fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert b"<dc:date>" not in data
    else:
        assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
        assert b"/CreationDate" not in data


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_same_input_same_bytes(fmt: str) -> None:
    first = charts.figure_bytes(sipladder.load(IMS).plot.hop_delay(), fmt)
    again = charts.figure_bytes(sipladder.load(IMS).plot.hop_delay(), fmt)
    assert first == again


def test_setup_delay_cdf_is_the_pdd_column(capture: Capture) -> None:
    calls = capture.calls
    status = calls["final_status"]
    answered = (status >= 200) & (status < 300)
    expected = {
        "answered": _ms(calls.loc[answered.fillna(False).astype(bool), "pdd_ms"]),
        "not answered": _ms(calls.loc[~answered.fillna(False).astype(bool), "pdd_ms"]),
    }
    fig = capture.plot.setup_delay()
    hist, cdf = fig.axes
    lines = {line.get_gid(): line for line in cdf.get_lines()}
    for name, values in expected.items():
        if not values:
            assert f"cdf-{name}" not in lines
            continue
        line = lines[f"cdf-{name}"]
        # The step starts at 0 on the smallest value, then one step per attempt.
        assert [round(x, 6) for x in line.get_xdata()] == [values[0], *values]
        n = len(values)
        assert list(line.get_ydata()) == pytest.approx([0.0] + [(i + 1) / n for i in range(n)])
    # The stacked histogram counts every measured call once.
    top = sum(p.get_height() for p in hist.patches)
    assert top == sum(len(v) for v in expected.values())


def test_ims_setup_delay_is_the_documented_pdd(ims: Capture) -> None:
    # samples/README.md: PDD 208.6 ms by construction.
    line = next(iter(ims.plot.setup_delay().axes[1].get_lines()))
    assert list(line.get_xdata()) == [pytest.approx(208.6, abs=0.05)] * 2


def test_registration_delay_cdf_per_kind(capture: Capture) -> None:
    regs = capture.registrations
    fig = capture.plot.registration_delay()
    lines = {line.get_gid(): line for line in fig.axes[1].get_lines()}
    kinds = sorted(regs.loc[regs["delay_ms"].notna(), "kind"].unique())
    assert sorted(lines) == [f"cdf-{k}" for k in kinds]
    for kind in kinds:
        expected = _ms(regs.loc[regs["kind"] == kind, "delay_ms"])
        assert [round(x, 6) for x in lines[f"cdf-{kind}"].get_xdata()][1:] == expected


@pytest.mark.parametrize("bucket", ["1s", "1min"])
def test_calls_per_bucket_match_the_calls_table(capture: Capture, bucket: str) -> None:
    calls = capture.calls
    bars = _bars(capture.plot.calls(bucket=bucket))
    assert {k: sum(v) for k, v in bars.items()} == _bucket_counts(
        calls["start"], calls["state"], bucket
    )
    buckets = calls["start"].dt.floor(bucket).nunique()
    assert all(len(heights) == buckets for heights in bars.values())


def test_registrations_per_bucket_match_the_table(capture: Capture) -> None:
    regs = capture.registrations
    bars = _bars(capture.plot.registrations(bucket="1s"))
    assert {k: sum(v) for k, v in bars.items()} == _bucket_counts(
        regs["start"], regs["state"], "1s"
    )


def test_response_codes_match_the_messages_table(capture: Capture) -> None:
    messages = capture.messages
    responses = messages[messages["status"].notna() & ~messages["retransmission"].fillna(False)]
    bars = _bars(capture.plot.response_codes(bucket="1s"))
    expected = responses["status"].astype(int).astype(str).value_counts().to_dict()
    assert {k: int(sum(v)) for k, v in bars.items()} == expected


def test_hop_delay_dots_are_the_transactions_forward_and_return(ims: Capture) -> None:
    txs = ims.transactions
    later = txs[txs["hop"] > 0]
    fig = ims.plot.hop_delay()
    forward, back = fig.axes
    labels = [t.get_text() for t in forward.get_yticklabels()]
    names = [label.split()[-1] for label in labels]
    assert names == sorted(later["client"].unique())
    # samples/README.md: the P-CSCF pcscf1.tel.com is 5555::a:f:f:e.
    assert "pcscf1.tel.com [5555::a:f:f:e]:5060" in labels
    assert len(names) >= 3  # the IMS sample goes through P-, I- and S-CSCFs
    for ax, key, column in ((forward, "forward", "forward_ms"), (back, "return", "return_ms")):
        drawn = {c.get_gid(): sorted(round(x, 6) for x in c.get_offsets()[:, 0])
                 for c in ax.collections}
        for y, name in enumerate(names):
            expected = _ms(later.loc[later["client"] == name, column])
            assert drawn.get(f"{key}-{y}", []) == expected


def test_hop_delay_without_hops_says_so(sipp: Capture) -> None:
    fig = sipp.plot.hop_delay()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["no forwarded requests in the capture"] * 2


def test_mathtext_in_capture_text_stays_literal() -> None:
    assert charts._plain("a$b$c") == r"a\$b\$c"


def test_auto_bucket_is_round_and_gives_few_bars() -> None:
    assert charts.auto_bucket(0, 10 * 10**9) == 10**9
    assert charts.auto_bucket(0, 3600 * 10**9) == 120 * 10**9
    assert charts.auto_bucket(5, 5) == 10**9


def test_unknown_chart_is_a_value_error(ims: Capture) -> None:
    with pytest.raises(ValueError, match="unknown chart"):
        ims.plot.chart("pie")


def test_missing_matplotlib_says_which_extra(
    ims: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'sipladder\[plot\]'"):
        ims.plot.setup_delay()


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_cli_writes_the_chart(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"chart.{suffix}"
    result = CliRunner().invoke(
        cli, ["plot", "calls", IMS, "-o", str(out), "--bucket", "30s", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == charts.figure_bytes(sipladder.load(IMS).plot.calls("30s"), suffix)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plot", "calls", IMS, "-o", "x.gif"], "must end in .png, .svg or .pdf"),
        (["plot", "pie", IMS, "-o", "x.png"], "Invalid value for 'NAME'"),
        (["plot", "calls", IMS, "-o", "x.png", "--bucket", "soon"], "not a bucket length"),
    ],
    ids=["bad-suffix", "unknown-chart", "bad-bucket"],
)
def test_cli_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.output
