"""Remake the README's images: a screenshot of the IMS sample's HTML report (a call's
ladder open, an arrow's message shown), in headless Debian Chromium driven by
Playwright, and one chart PNG. Run from the repository root:

    PYTHONPATH=. python docs/make_images.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

import sipladder
from sipladder.render.charts import save_figure

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def main() -> None:
    capture = sipladder.load(str(ROOT / "samples" / "ims-tom-jerry.pcapng"))
    save_figure(capture.plot.hop_delay(), ROOT / "docs" / "chart-hop-delay.png")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = Path(tmp) / "report.html"
        page_path.write_text(capture.report(), encoding="utf-8")
        browser = p.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"), executable_path="/usr/bin/chromium", args=ARGS,
            headless=True, viewport={"width": 1400, "height": 1000},
        )
        page = browser.new_page()
        page.goto(page_path.as_uri())
        page.click("#calls tbody tr[data-ladder]")
        page.locator("#ladder-c0 g.msg text.lbl").nth(1).click()
        page.evaluate("document.getElementById('calls-section').scrollIntoView()")
        page.screenshot(path=str(ROOT / "docs" / "report.png"))
        browser.close()


if __name__ == "__main__":
    main()
