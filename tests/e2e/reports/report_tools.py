"""What the report and check tests share: the tools under test, synthetic traces with their
account of what was written, a real browser, and readers for PNG and HTML.

ctest sets COWTRACE_BIN, COWTRACE_LIB, COWTRACE_FIXTURES, SYNTHETIC_TRACE and COW_WRITER."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

TIMEOUT_S = 120


def tool(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set (run through ctest)")
    return value


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="cowtrace-reports-"))


def cowtrace(*args: str, env: dict | None = None, cwd: Path | None = None,
             timeout: int = TIMEOUT_S) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    full_env.update(env or {})
    return subprocess.run([tool("COWTRACE_BIN"), *args], capture_output=True, env=full_env, cwd=cwd,
                          timeout=timeout)


def synthetic(scenario: str, directory: Path) -> tuple[Path, dict]:
    """Writes the scenario's trace; returns its path and the generator's account of it."""
    trace, truth = directory / f"{scenario}.trace", directory / f"{scenario}.truth.json"
    subprocess.run([tool("SYNTHETIC_TRACE"), scenario, str(trace), str(truth)], check=True,
                   timeout=TIMEOUT_S)
    return trace, json.loads(truth.read_text())


def report(trace: Path, fmt: str, *extra: str) -> bytes:
    out = cowtrace("report", str(trace), "--format", fmt, *extra)
    if out.returncode != 0:
        raise AssertionError(f"cowtrace report --format {fmt} exited {out.returncode}: "
                             f"{out.stderr.decode(errors='replace')}")
    return out.stdout


# ---- a real browser ---------------------------------------------------------------------------

def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("no Chromium found: install Debian's chromium (.ci/install-deps.sh does)")


def chromium_args(profile: Path) -> list[str]:
    # Root needs --no-sandbox; the rest keeps a headless run offline and quiet.
    return [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}"]


def dump_dom(page: Path, directory: Path) -> str:
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=directory))
    out = subprocess.run([*chromium_args(profile), "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, timeout=TIMEOUT_S)
    if out.returncode != 0 or not out.stdout:
        raise AssertionError(f"chromium --dump-dom failed ({out.returncode}): {out.stderr.decode(errors='replace')[-2000:]}")
    return out.stdout.decode("utf-8", errors="replace")


def screenshot(page: Path, directory: Path, width: int = 1280, height: int = 900) -> Path:
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=directory))
    png = directory / "report.png"
    out = subprocess.run([*chromium_args(profile), "--hide-scrollbars", f"--window-size={width},{height}",
                          "--virtual-time-budget=5000", f"--screenshot={png}", page.as_uri()],
                         capture_output=True, timeout=TIMEOUT_S)
    if out.returncode != 0 or not png.exists():
        raise AssertionError(f"chromium --screenshot failed ({out.returncode}): {out.stderr.decode(errors='replace')[-2000:]}")
    return png


# ---- PNG ----------------------------------------------------------------------------------------

def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decodes an 8-bit RGB or RGBA PNG (what Chromium writes): width, height, rows of pixels."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError(f"{path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise AssertionError(f"unexpected PNG layout: depth {depth}, color type {color}, interlace {interlace}")
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]


# ---- HTML -----------------------------------------------------------------------------------------

class Element:
    def __init__(self, tag: str, attrs: dict, parent: "Element | None"):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.texts: list[str] = []

    def text(self) -> str:
        return "".join(self.texts) + "".join(c.text() for c in self.children)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list["Element"]:
        out = []
        for e in self.walk():
            if tag and e.tag != tag:
                continue
            if cls and cls not in e.classes():
                continue
            if any(e.attrs.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(e)
        return out

    def by_id(self, ident: str) -> "Element | None":
        found = self.find_all(id=ident)
        return found[0] if found else None


_VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "embed", "source", "wbr"}


class _DomBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        e = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(e)
        if tag not in _VOID:
            self.current = e

    def handle_startendtag(self, tag, attrs):
        e = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(e)

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.texts.append(data)


def pid_ranges(text: str) -> set[int]:
    """The pids of "1201, 1203–1210": runs of consecutive pids written first–last."""
    pids = set()
    for item in text.split(","):
        first, _, last = item.strip().partition("–")
        if first.isdigit():
            pids.update(range(int(first), int(last or first) + 1))
    return pids


def tree_pids(tree: Element) -> tuple[set[int], dict[int, Element]]:
    """The pids the HTML tree shows one by one, and its folded groups by first pid."""
    shown, groups = set(), {}
    for li in tree.find_all("li"):
        if "data-pid" not in li.attrs:
            continue
        if "group" in li.classes():
            groups[int(li.attrs["data-pid"])] = li
        else:
            shown.add(int(li.attrs["data-pid"]))
    return shown, groups


def group_pids(group: Element) -> set[int]:
    return pid_ranges(group.find_all("span", cls="pid-list")[0].text())


def parse_html(text: str) -> Element:
    builder = _DomBuilder()
    builder.feed(text)
    builder.close()
    return builder.root
