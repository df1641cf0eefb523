"""Great Expectations Data Docs that open with no network.

GE's page templates load jQuery, Bootstrap, bootstrap-table (which draws the index's table of
validation results from data in the page), its filter control, the datepicker and Font Awesome
from public CDNs, and its logo from a bucket: offline the index is a blank table. ``localize``
copies the files vendored in ``data_docs_vendor/`` (npm packages; versions, sources and licences
in its README.md) into the docs' ``static/vendor/`` and points every page at them by relative
path, so the docs open from the folder (``file://``) or from ``lotwise reports serve`` alike.
Vega (the charts of distribution expectations, which no Lotwise suite has) and the dark-mode theme
are dropped, as is any other remote script or stylesheet a later GE may add: a page loads nothing
from outside. Nothing is fetched, when the docs are built or when they are read.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

VENDOR = Path(__file__).with_name("data_docs_vendor")
VENDOR_URL_DIR = "static/vendor"

# The last segment of a CDN address in GE's templates → the vendored files that replace it.
LOCAL_FILES: dict[str, tuple[str, ...]] = {
    "jquery-3.7.1.min.js": ("jquery.min.js",),
    "popper.min.js": ("popper.min.js",),
    "bootstrap.min.css": ("bootstrap.min.css",),
    "bootstrap.min.js": ("bootstrap.min.js",),
    "bootstrap-table.min.css": ("bootstrap-table.min.css",),
    "bootstrap-table.min.js": ("bootstrap-table.min.js",),
    "bootstrap-table-filter-control.css": ("bootstrap-table-filter-control.min.css",),
    "bootstrap-table-filter-control.min.css": ("bootstrap-table-filter-control.min.css",),
    "bootstrap-table-filter-control.min.js": ("bootstrap-table-filter-control.min.js",),
    "bootstrap-datepicker.min.css": ("bootstrap-datepicker.min.css",),
    "bootstrap-datepicker.min.js": ("bootstrap-datepicker.min.js",),
    "all.min.css": ("fontawesome/css/fontawesome.min.css", "fontawesome/css/solid.min.css",
                    "fontawesome/css/regular.min.css"),
}

# <script src="http…"></script> and <link … href="http…">: every remote resource a page would load.
_REMOTE_TAG = re.compile(r'<(script|link)\b[^>]*?\b(?:src|href)="(https?://[^"]+)"[^>]*>(?:\s*</script>)?', re.I)
# GE's logos, from its bucket (an <img> and a dark-mode CSS background); the docs' static/images has one.
_REMOTE_LOGO = re.compile(r'https?://great-expectations-web-assets\.[^"\'/]+/[\w.-]+\.png(?:\?[^"\')\s]*)?')
LOGO = "static/images/logo-long.png"
# GE's own static files, by a relative path that is wrong on deep pages (the favicon of a validation page).
_STATIC_REF = re.compile(r'\b(src|href)="(?:\./|(?:\.\./)+)?static/')


def localize(folder: Path) -> list[Path]:
    """Make the Data Docs under ``folder`` self-contained: vendored assets copied in, every page's
    remote scripts and stylesheets replaced by them (or dropped). Returns the pages rewritten."""
    folder = Path(folder)
    shutil.copytree(VENDOR, folder / VENDOR_URL_DIR, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    pages = sorted(folder.rglob("*.html"))
    for page in pages:
        up = "../" * (len(page.relative_to(folder).parts) - 1)
        page.write_text(localize_page(page.read_text(encoding="utf-8"), up), encoding="utf-8")
    return pages


def localize_page(html: str, up: str) -> str:
    """One page's text with its remote resources made local; ``up`` leads from the page to the docs' root."""

    def local(match: re.Match) -> str:
        kind, url = match[1].lower(), match[2]
        files = LOCAL_FILES.get(url.split("?")[0].rstrip("/").rsplit("/", 1)[-1], ())
        if kind == "script":
            return "".join(f'<script src="{up}{VENDOR_URL_DIR}/{f}"></script>' for f in files)
        return "".join(f'<link rel="stylesheet" href="{up}{VENDOR_URL_DIR}/{f}">' for f in files)

    html = _STATIC_REF.sub(lambda m: f'{m[1]}="{up}static/', html)
    html = _REMOTE_LOGO.sub(f"{up}{LOGO}", html)
    return _REMOTE_TAG.sub(local, html)
