"""``cudaenv fleet --format html``: one self-contained page, judged by a real browser.

Twelve nodes from worlds of real ELF files: gpu07 with an older libnvJitLink first on
LD_LIBRARY_PATH (and, unredacted, a channel token in its environment), gpu11 with an older
driver, gpu12 a truncated file. The page is opened in Debian's headless Chromium through its
ChromeDriver: it renders, logs no console error, fetches nothing, sorts and filters; a
screenshot is kept.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cudaenv._cli import main
from cudaworld import node_world
from test_fleet import run_cli, snapshot_of

TOKEN = "tk-" + "Zq8" * 12  # an anaconda.org channel token, only on gpu07


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("fleet-html")
    directory = base / "snapshots"
    directory.mkdir()
    plain = snapshot_of(node_world(base / "plain"), base / "plain.json")
    odd_world = node_world(base / "odd", odd_ld_path=True)
    odd_world.env["CONDA_CHANNEL_ALIAS"] = f"https://conda.example.com/t/{TOKEN}/"
    env_file = str(odd_world.write_env())
    odd_file = base / "odd.json"  # unredacted, as fleet --scheduler gathers them
    run_cli(
        "snapshot",
        "--no-redact",
        "--root",
        str(odd_world.root),
        "--env-file",
        env_file,
        "-o",
        str(odd_file),
    )
    odd = json.loads(odd_file.read_text())
    assert TOKEN in odd_file.read_text()
    old = snapshot_of(node_world(base / "old", driver_version="535.104.05"), base / "old.json")
    for i in range(1, 12):
        document = odd if i == 7 else old if i == 11 else plain
        (directory / f"gpu{i:02d}.json").write_text(json.dumps(document))
    (directory / "gpu12.json").write_text('{"schema": "cudaenv.snap')  # cut off mid-copy
    return directory


@pytest.fixture(scope="module")
def page(snapshots: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "fleet.html"
    assert main(["fleet", "--from", str(snapshots), "--format", "html", "-o", str(out)]) == 0
    return out


def embedded_document(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="fleet-document">(.*?)</script>', html)
    assert found
    document: dict[str, Any] = json.loads(found.group(1))
    return document


def test_the_page_carries_what_json_gives(snapshots: Path, page: Path) -> None:
    html = page.read_text()
    as_json = json.loads(run_cli("fleet", "--from", str(snapshots), "--format", "json"))
    assert embedded_document(html) == as_json
    assert "<title>cudaenv fleet — 12 nodes: 9 alike, 2 outliers, 1 failed</title>" in html
    # in the nodes table, what differs from the majority is marked
    assert '<td class="differs">driver 535.104.05 (CUDA 12.2)</td>' in html
    assert html.count('<td class="differs">') == 1


def test_the_page_is_self_contained_and_redacted(page: Path) -> None:
    html = page.read_text()
    assert "Content-Security-Policy" in html
    assert "default-src 'none'" in html
    # nothing to fetch: no external script, style, image or link
    assert not re.search(r"""(src|href)=["']?(?!["']|data:)""", html)
    assert TOKEN not in html
    assert "conda.example.com/t/&lt;redacted&gt;/" in html  # escaped, not markup


def test_html_needs_no_dask_and_writes_atomically(snapshots: Path, tmp_path: Path) -> None:
    target = tmp_path / "fleet.html"
    target.write_text("the previous report")
    assert main(["fleet", "--from", str(snapshots), "--format", "html", "-o", str(target)]) == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert not [p for p in tmp_path.iterdir() if p.name != "fleet.html"]  # no temp file left


# --- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        message = "Debian's chromium and chromium-driver are not installed"
        if os.environ.get("CUDAENV_TEST_BROWSER") == "required":  # CI installs them
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


def column(driver: Any, table: str, index: int) -> list[str]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")
    return [r.find_elements(By.TAG_NAME, "td")[index].text for r in rows if r.is_displayed()]


def heading(driver: Any, table: str, name: str) -> Any:
    from selenium.webdriver.common.by import By

    [th] = [
        th
        for th in driver.find_elements(By.CSS_SELECTOR, f"#{table} thead th")
        if th.text.startswith(name)
    ]
    return th


def png_pixels_vary(path: Path) -> tuple[int, int, bool]:
    """Width, height, and whether the image is more than one flat colour (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels[: 1 << 20])) > 16


def test_the_page_in_chromium(
    browser: Any, page: Path, tmp_path: Path, record_property: Any
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    assert browser.title.startswith("cudaenv fleet — 12 nodes")
    h1 = browser.find_element(By.TAG_NAME, "h1")
    assert h1.is_displayed()
    assert h1.text == "cudaenv fleet"

    nodes = column(browser, "nodes", 0)
    assert nodes[:9] == [f"gpu{i:02d}" for i in (1, 2, 3, 4, 5, 6, 8, 9, 10)]  # the majority
    assert nodes[9:] == ["gpu07", "gpu11", "gpu12"]

    name = heading(browser, "nodes", "Node")
    name.find_element(By.TAG_NAME, "button").click()
    assert name.get_attribute("aria-sort") == "ascending"
    assert column(browser, "nodes", 0) == [f"gpu{i:02d}" for i in range(1, 13)]
    name.find_element(By.TAG_NAME, "button").click()
    assert name.get_attribute("aria-sort") == "descending"
    assert column(browser, "nodes", 0) == [f"gpu{i:02d}" for i in range(12, 0, -1)]

    worst = heading(browser, "nodes", "Worst")
    worst.find_element(By.TAG_NAME, "button").click()
    worst.find_element(By.TAG_NAME, "button").click()  # descending: the worst first
    assert name.get_attribute("aria-sort") is None
    assert column(browser, "nodes", 0)[:2] == ["gpu12", "gpu07"]
    assert column(browser, "nodes", 6)[:2] == ["failed", "error"]

    filter_box = browser.find_element(By.ID, "filter")
    filter_box.send_keys("symbol-version")
    assert column(browser, "nodes", 0) == ["gpu07"]
    filter_box.clear()
    filter_box.send_keys(" ")  # clear() sends no input event; a blank filter shows all
    assert len(column(browser, "nodes", 0)) == 12

    severity = heading(browser, "findings", "Severity")
    severity.find_element(By.TAG_NAME, "button").click()
    assert column(browser, "findings", 2) == ["library-shadowed", "symbol-version-missing"]
    severity.find_element(By.TAG_NAME, "button").click()
    assert column(browser, "findings", 2) == ["symbol-version-missing", "library-shadowed"]

    fetched = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert fetched == 0
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []

    shot = tmp_path / "fleet-report.png"
    assert browser.save_screenshot(str(shot))
    record_property("screenshot", str(shot))
    width, height, varied = png_pixels_vary(shot)
    assert width >= 1000
    assert height >= 500
    assert varied, "the screenshot is one flat colour: nothing rendered"
