"""A report page as a person's browser shows it: headless Chromium at a given width.

    facts = measure_page(Path("reports/latest/index.html"), width=1280)
    facts.overflowing     # [] when every table fits; else "table.kit-diff right edge 1460 px"
    facts.pages_shown     # [True, False, False]: each rendered HTML error page, visible or not
    screenshot(Path("reports/latest/index.html"), Path("index.png"), width=1280)

Chromium is Debian's ``chromium`` (``make browser`` installs it). The page is never changed:
the measuring script runs in a copy beside it (same folder, so relative links still work).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kit.errors import KitError

# Every table wider than the window (right edge past it) and whether each kit-page (a rendered
# HTML error page) is shown, i.e. not inside a closed <details> (Chromium still lays those out).
_MEASURE = """<script>(function () {
  var width = document.documentElement.clientWidth, over = [];
  document.querySelectorAll('table').forEach(function (t) {
    var r = t.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1)
      over.push('table' + (t.id ? '#' + t.id : '') + (t.className ? '.' + t.className.split(' ').join('.') : '')
                + ' right edge ' + Math.round(r.right) + ' px');
  });
  var pages = Array.prototype.map.call(document.querySelectorAll('div.kit-page'),
                                       function (d) { return !d.closest('details:not([open])'); });
  var out = document.createElement('pre'); out.id = 'kit-measure';
  out.textContent = JSON.stringify({width: width, scroll_width: document.documentElement.scrollWidth,
                                    overflowing: over, pages_shown: pages});
  document.body.appendChild(out);
})();</script>"""


class BrowserError(KitError):
    """Chromium is missing or failed to render a page."""


@dataclass(frozen=True)
class PageFacts:
    """What Chromium laid out: the window ``width``, the page's ``scroll_width`` (wider means a
    horizontal scrollbar), tables past the right edge, and each error page's visibility."""

    width: int
    scroll_width: int
    overflowing: list[str]
    pages_shown: list[bool]

    @property
    def fits(self) -> bool:
        return not self.overflowing and self.scroll_width <= self.width


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with its own throw-away profile; raises BrowserError."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise BrowserError("chromium is not installed", fix="run `make browser` (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="kit-chromium-") as profile:
        try:
            return subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args],
                capture_output=True, text=True, timeout=timeout, check=True)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise BrowserError(f"chromium failed on {args[-1]}: {exc}",
                               fix="run the same command by hand to see Chromium's message") from exc


def measure_page(page: Path, *, width: int = 1280, height: int = 900) -> PageFacts:
    """Lay ``page`` out at ``width`` × ``height`` CSS px and read the facts back."""
    text = page.read_text(encoding="utf-8")
    at = text.lower().rfind("</body>")
    measured = text[:at] + _MEASURE + text[at:] if at >= 0 else text + _MEASURE
    with tempfile.NamedTemporaryFile("w", suffix=".html", dir=page.parent, prefix=".kit-measure-",
                                     encoding="utf-8", delete=False) as copy:
        copy.write(measured)
    try:
        dom = chromium("--dump-dom", f"--window-size={width},{height}", Path(copy.name).as_uri()).stdout
    finally:
        Path(copy.name).unlink(missing_ok=True)
    start = dom.find('<pre id="kit-measure">')
    if start < 0:
        raise BrowserError(f"the measuring script did not run in {page.name}",
                           fix="check that the page is complete HTML")
    raw = dom[start + len('<pre id="kit-measure">'):dom.index("</pre>", start)]
    import html

    return PageFacts(**json.loads(html.unescape(raw)))


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 2400) -> Path:
    """A PNG of the top ``height`` px of ``page`` at ``width`` px; returns ``png``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    chromium(f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri())
    return png


def write_screenshots(report_dir: Path, *, width: int = 1280) -> list[Path]:
    """``report_dir/screenshots/<page>.png`` for ``index.html`` and every notebook page, at
    ``width`` px: what a person sees, kept beside the report. Returns the PNG paths."""
    pages = sorted(report_dir.glob("*.html"), key=lambda p: (p.name != "index.html", p.name))
    return [screenshot(page, report_dir / "screenshots" / f"{page.stem}.png", width=width)
            for page in pages]
