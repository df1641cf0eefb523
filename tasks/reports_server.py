"""``lotwise reports serve``: the run folders and the Data Docs over HTTP, read-only, so that the
dashboard's links open in a browser (a ``file://`` link from a web page does not).

Two roots under the var folder, and nothing else:

    /runs/<date>/<run id>/…       var/runs        trades, order files, desk_report.html, …
    /data-docs/<date>/<run id>/…  var/data_docs   Great Expectations Data Docs (index.html)

GET and HEAD only (anything else is 405). A path that leaves its root — ``..``, a symbolic link
pointing out — or names what is not the desk's to read — a day's lock (``<date>.lock``: who runs
it, where from), a hidden name (a run folder still being written) — is 404, as is any path
outside the two roots. A folder answers with its ``index.html`` where it has one, else with a
list of what it holds. Every answer is ``no-store`` (client data) and may load nothing from
another origin.

Bound to 127.0.0.1 by default. Bound to any other address the server refuses to start unless it
asks every request for a token (``Authorization: Bearer …``, for scripts) or HTTP basic
authentication (a browser prompts for it); the secrets travel in clear, so put TLS in front of it
(the firm's proxy) before it leaves the machine. Each run's artifacts link to
``RunConfig.reports_base_url`` + the path here (``report_url``).
"""

# No `from __future__ import annotations` here: FastAPI reads the route functions' annotations
# (Request) as objects, and they are imported inside create_app.
import base64
import hmac
import ipaddress
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote

ROOTS = {"runs": "runs", "data-docs": "data_docs"}  # URL prefix → folder under var
MIN_SECRET_CHARS = 16
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The pages may run their own inline scripts (the Data Docs' tables) but fetch nothing from elsewhere.
    "Content-Security-Policy": "default-src 'self' 'unsafe-inline' data:; frame-ancestors 'none'",
}


def report_url(base_url: str, var_dir: Path, path: Path) -> str:
    """The address of ``path`` (a file or folder under ``var_dir``'s runs or data_docs) on the reports server."""
    target = Path(path).resolve()
    for prefix, folder in ROOTS.items():
        root = (Path(var_dir) / folder).resolve()
        if target.is_relative_to(root):
            rel = target.relative_to(root).as_posix()
            tail = "" if rel == "." else quote(rel) + ("/" if target.is_dir() else "")
            return f"{base_url.rstrip('/')}/{prefix}/{tail}"
    raise ValueError(f"{path} is not under {Path(var_dir) / 'runs'} or {Path(var_dir) / 'data_docs'}: "
                     "the reports server does not serve it")


@dataclass(frozen=True)
class Access:
    """Who may read: anyone who reaches the port (no secret), a bearer token, or a basic-auth user."""

    token: str | None = None
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, token: str | None, basic_auth: str | None) -> "Access":
        """From ``--token`` and ``--basic-auth USER:PASSWORD``; a weak or malformed secret is a ValueError."""
        user = password = None
        if basic_auth:
            user, sep, password = basic_auth.partition(":")
            if not sep or not user or not password:
                raise ValueError("--basic-auth must be USER:PASSWORD")
            if len(password) < MIN_SECRET_CHARS:
                raise ValueError(f"the basic-auth password must be at least {MIN_SECRET_CHARS} characters")
        if token is not None and len(token) < MIN_SECRET_CHARS:
            raise ValueError(f"the token must be at least {MIN_SECRET_CHARS} characters")
        return cls(token or None, user, password)

    @property
    def required(self) -> bool:
        return bool(self.token or self.user)

    def allows(self, authorization: str) -> bool:
        if not self.required:
            return True
        scheme, _, value = authorization.partition(" ")
        if self.token and scheme.lower() == "bearer":
            return hmac.compare_digest(value.strip().encode(), self.token.encode())
        if self.user and scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip(), validate=True)
            except ValueError:
                return False
            return hmac.compare_digest(given, f"{self.user}:{self.password}".encode())
        return False

    def describe(self) -> str:
        return " and ".join(w for w, on in (("a bearer token", self.token), ("basic authentication", self.user)) if on) \
            or "no authentication (loopback only)"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(host: str, access: Access) -> str | None:
    """Why the server must not start on ``host`` with ``access`` (None: it may)."""
    if is_loopback(host) or access.required:
        return None
    return (f"{host} is not a loopback address: give --token or --basic-auth USER:PASSWORD "
            "(or LOTWISE_REPORTS_TOKEN / LOTWISE_REPORTS_BASIC_AUTH) so every request must authenticate")


def hidden(name: str) -> bool:
    """Not served: hidden names (folders being written or swapped out) and the day locks."""
    return name.startswith(".") or name.endswith(".lock")


def resolve(var_dir: Path, prefix: str, rel: str) -> Path | None:
    """The file or folder ``rel`` names under the root of ``prefix``, or None when it is not there,
    is hidden, or leads out of the root (``..``, a link pointing elsewhere)."""
    if prefix not in ROOTS:
        return None
    parts = [p for p in rel.split("/") if p]
    if any(hidden(p) or "\\" in p or "\x00" in p for p in parts):
        return None
    root = (Path(var_dir) / ROOTS[prefix]).resolve()
    target = root.joinpath(*parts).resolve()
    if not target.is_relative_to(root) or not target.exists():
        return None
    return target


def _listing(title: str, root: Path, folder: Path) -> str:
    """A folder's entries as links, without hidden names or links that lead out of the root."""
    entries = sorted(p for p in folder.iterdir() if not hidden(p.name) and p.resolve().is_relative_to(root))
    items = "".join(f'<li><a href="{quote(p.name)}{"/" if p.is_dir() else ""}">{escape(p.name)}'
                    f'{"/" if p.is_dir() else ""}</a></li>' for p in entries)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body><h1>{escape(title)}</h1><ul>{items}</ul></body></html>")


def create_app(var_dir: Path, access: Access = Access()):
    """The ASGI application serving ``var_dir``'s runs and Data Docs."""
    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

    # No pages but the served files (no API docs), and no redirect of an unknown path to its slash form.
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, redirect_slashes=False)
    realm = 'Basic realm="Lotwise reports", charset="UTF-8"' if access.user else 'Bearer realm="Lotwise reports"'

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if not access.allows(request.headers.get("authorization", "")):
            response = Response("authentication required\n", status_code=401, headers={"WWW-Authenticate": realm})
        elif request.method not in ("GET", "HEAD"):
            response = Response("read-only: GET and HEAD only\n", status_code=405, headers={"Allow": "GET, HEAD"})
        else:
            response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    @app.api_route("/", methods=["GET", "HEAD"])
    def home():
        items = "".join(f'<li><a href="/{p}/">{p}/</a> ({escape(f)} under the var folder)</li>' for p, f in ROOTS.items())
        return HTMLResponse(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Lotwise reports</title>'
                            f"</head><body><h1>Lotwise reports</h1><ul>{items}</ul></body></html>")

    @app.api_route("/{prefix}", methods=["GET", "HEAD"])
    def root(prefix: str):
        if prefix not in ROOTS:
            return Response("not found\n", status_code=404, media_type="text/plain")
        return RedirectResponse(f"/{prefix}/", status_code=308)

    @app.api_route("/{prefix}/{rel:path}", methods=["GET", "HEAD"])
    def served(prefix: str, rel: str, request: Request):
        target = resolve(var_dir, prefix, rel)
        if target is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        if target.is_dir():
            if not request.url.path.endswith("/"):  # relative links inside the folder need the slash
                return RedirectResponse(request.url.path + "/", status_code=308)
            if (target / "index.html").is_file():
                return FileResponse(target / "index.html")
            return HTMLResponse(_listing(f"/{prefix}/{rel}", (Path(var_dir) / ROOTS[prefix]).resolve(), target))
        return FileResponse(target)

    return app


def serve(var_dir: Path, host: str, port: int, access: Access) -> None:
    """Run the server until interrupted (uvicorn); ``refusal`` must have been checked first."""
    import uvicorn

    reason = refusal(host, access)
    if reason is not None:
        raise ValueError(reason)
    uvicorn.run(create_app(Path(var_dir), access), host=host, port=port, log_level="info", server_header=False)
