"""``web.search`` (ddgs metasearch) and ``web.fetch`` (a page as readable text).

Both are blocking; the bridge runs them in a thread. Search runs under a hard deadline so
an offline machine gets a quick, clear ToolError instead of a hang.
"""

from __future__ import annotations

import concurrent.futures
import re
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from typing import Any

from autopilot.errors import ToolError
from autopilot.policy.rules import is_private_address
from autopilot.tools.results import Untrusted

SEARCH_TIMEOUT_S = 5  # per engine request (ddgs)
SEARCH_DEADLINE_S = 10.0  # for the whole search
FETCH_TIMEOUT_S = 15.0  # per socket operation
FETCH_DEADLINE_S = 30.0  # for the whole body: a server dripping bytes must not hold us
FETCH_MAX_BYTES = 3_000_000
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) autopilot"


def search(query: str, max_results: int = 5) -> list[dict]:
    """Search the web. Returns [{title, url, snippet}], best first (at most 20).

    Use web.fetch(url) or browser.open(url) to read a result."""
    if not query.strip():
        raise ToolError("web.search needs a non-empty query")
    max_results = max(1, min(int(max_results), 20))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="web.search")
    future = pool.submit(ddgs_text, query, max_results, SEARCH_TIMEOUT_S)
    try:
        raw = future.result(timeout=SEARCH_DEADLINE_S)
    except concurrent.futures.TimeoutError:
        raise ToolError(
            f"web.search timed out after {SEARCH_DEADLINE_S:.0f} s (is this machine offline?)"
        ) from None
    except ToolError:
        raise
    except Exception as exc:
        raise ToolError(f"web.search failed: {_short(exc)} (is this machine offline?)") from None
    finally:
        # Never wait for a stuck engine thread: the deadline above is the promise.
        pool.shutdown(wait=False, cancel_futures=True)
    return parse_results(raw, max_results)


def ddgs_text(query: str, max_results: int, timeout: int) -> list[dict[str, Any]]:
    """The one call into ddgs (tests replace it with recorded responses)."""
    try:
        from ddgs import DDGS
    except ImportError as exc:  # pragma: no cover - ddgs is a dependency
        raise ToolError("web.search needs the ddgs package: pip install ddgs") from exc
    return DDGS(timeout=timeout).text(query, max_results=max_results)


def parse_results(raw: Any, max_results: int) -> list[dict]:
    """ddgs items (``title``/``href``/``body``, some engines ``url``) → [{title, url, snippet}]."""
    results: list[dict] = []
    seen: set[str] = set()
    for item in raw or []:
        if not isinstance(item, dict):
            continue
        url = str(item.get("href") or item.get("url") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        title = " ".join(str(item.get("title") or "").split())
        snippet = " ".join(str(item.get("body") or item.get("snippet") or "").split())
        results.append({"title": Untrusted(title), "url": url, "snippet": Untrusted(snippet)})
        if len(results) >= max_results:
            break
    return results


def fetch(url: str, max_chars: int = 20000) -> dict:
    """Download a page and return its readable text: {url, status, title, text, truncated}.

    Scripts, styles and markup are stripped; text is cut at max_chars."""
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        with _opener(url).open(request, timeout=FETCH_TIMEOUT_S) as response:
            body = _read_body(response, url)
            final_url = response.geturl()
            status = getattr(response, "status", 200) or 200
            content_type = response.headers.get("Content-Type", "") or ""
            charset = response.headers.get_content_charset() or "utf-8"
    except ToolError:
        raise
    except urllib.error.HTTPError as exc:
        raise ToolError(f"web.fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ToolError(f"web.fetch {url}: {_short(exc)}") from None
    text = body[:FETCH_MAX_BYTES].decode(charset, errors="replace")
    kind = content_type.split(";")[0].strip().lower()
    if kind in {"text/html", "application/xhtml+xml"} or (
        not kind and "<html" in text[:2000].lower()
    ):
        title, text = html_to_text(text)
    elif kind and not (kind.startswith("text/") or kind.endswith(("json", "xml", "javascript"))):
        raise ToolError(f"web.fetch {url}: {kind} is not text; download it with code instead")
    else:
        title = ""
    max_chars = max(0, int(max_chars))
    truncated = len(text) > max_chars or len(body) > FETCH_MAX_BYTES
    return {
        "url": final_url,
        "status": status,
        "title": Untrusted(title),
        "text": Untrusted(text[:max_chars]),
        "truncated": truncated,
    }


def _read_body(response: Any, url: str) -> bytes:
    """Up to ``FETCH_MAX_BYTES + 1`` bytes, within ``FETCH_DEADLINE_S``."""
    deadline = time.monotonic() + FETCH_DEADLINE_S
    chunks: list[bytes] = []
    size = 0
    while size <= FETCH_MAX_BYTES:
        if time.monotonic() > deadline:
            raise ToolError(
                f"web.fetch {url}: no complete answer within {FETCH_DEADLINE_S:g} s "
                "(the server is too slow)"
            )
        piece = response.read1(min(65536, FETCH_MAX_BYTES + 1 - size))
        if not piece:
            break
        chunks.append(piece)
        size += len(piece)
    return b"".join(chunks)


class _NoRedirectToLocal(urllib.request.HTTPRedirectHandler):
    """A public page must not bounce the fetch to this machine or the local network: the
    policy judged the first URL only (asks for local ones), so redirects get the same test."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if is_private_address(newurl):
            raise ToolError(
                f"web.fetch {req.full_url}: refused a redirect to the local address {newurl}; "
                "fetch that URL directly if you need it (the person will be asked)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(url: str) -> urllib.request.OpenerDirector:
    if is_private_address(url):  # already approved as local: redirects may stay local
        return urllib.request.build_opener()
    return urllib.request.build_opener(_NoRedirectToLocal())


# --- HTML to readable text -----------------------------------------------------------------

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas"}
_BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "br", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tr", "pre", "blockquote",
    "form", "fieldset", "dl", "dt", "dd", "figure", "figcaption", "details", "summary",
}  # fmt: skip


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP:
            self._skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
        elif tag in {"td", "th"}:
            self.parts.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "hr"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str]:
    """(title, text) of an HTML document, whitespace tidied, scripts and styles dropped."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    title = " ".join("".join(parser.title_parts).split())
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return title, text


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"
