"""``browser.*``: a real Chromium driven by Playwright, one browser per session.

The browser starts lazily on the first call (async API, so it lives on the agent's event
loop) and is closed with the registry. Every action returns the new observation —
``{url, title, snapshot}`` — where the snapshot is a compact accessibility tree whose
interactive elements carry stable references (``[e12]``) that the other actions accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from autopilot.config import BrowserConfig
from autopilot.errors import ToolError
from autopilot.policy.rules import is_private_address
from autopilot.sandbox.base import ExecImage
from autopilot.tools.results import Untrusted
from autopilot.tools.snapshot import compact, normalize_ref

ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 20_000
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-gpu",
]
SYSTEM_CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class BrowserSession:
    """Holds the one Playwright browser of a session; its methods are the browser tools."""

    def __init__(self, config: BrowserConfig | None = None) -> None:
        self.config = config or BrowserConfig()
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None
        self._lock: asyncio.Lock | None = None
        # Whether pages may reach this machine or the local network: only after the policy
        # let browser.open go to such an address (it asks the person by default).
        self._local_allowed = False
        self._guarding = False
        self._blocked: str | None = None

    # --- the tools -------------------------------------------------------------------------

    async def open(self, url: str) -> dict:
        """Open url in the browser. Returns {url, title, snapshot}; refs like [e12] in the
        snapshot name elements for click/type/select."""
        page = await self._ensure_page()
        await self._guard_local(not is_private_address(url))
        for attempt in (1, 2):
            try:
                await page.goto(url, wait_until="load", timeout=NAVIGATION_TIMEOUT_MS)
                break
            except Exception as exc:
                await self._leave_if_local(f"browser.open {url}")
                message = _playwright_message(exc)
                # A failed load leaves Chromium's error page still navigating; the next goto
                # is then "interrupted by another navigation": let it settle, try once more.
                with contextlib.suppress(Exception):
                    await page.wait_for_load_state("load", timeout=ACTION_TIMEOUT_MS)
                if attempt == 2 or "interrupted by another navigation" not in message:
                    raise ToolError(f"browser.open {url}: {message}") from None
        return await self.observe()

    async def click(self, ref: str = "", text: str = "") -> dict:
        """Click the element with this ref (e.g. "e12"), or the button/link/text showing text."""
        locator = await self._target(ref, text)
        await self._act(locator.click(timeout=ACTION_TIMEOUT_MS), "click", ref or text)
        return await self._after_action()

    async def type(self, ref: str, text: str, submit: bool = False) -> dict:
        """Replace the content of the field ref with text; submit=True presses Enter after."""
        locator = await self._target(ref, "")
        try:
            await locator.fill(text, timeout=ACTION_TIMEOUT_MS)
        except Exception:  # not a fillable field (contenteditable widgets): type keys instead
            await self._act(locator.click(timeout=ACTION_TIMEOUT_MS), "type into", ref)
            await self._page.keyboard.type(text)
        if submit:
            await self._act(locator.press("Enter", timeout=ACTION_TIMEOUT_MS), "submit", ref)
        return await self._after_action()

    async def press(self, key: str) -> dict:
        """Press a key or chord on the focused element, e.g. "Enter", "Tab", "Control+A"."""
        page = await self._ensure_page()
        await self._act(page.keyboard.press(key), "press", key)
        return await self._after_action()

    async def select(self, ref: str, value: str) -> dict:
        """Choose the option with this value or label in the <select> ref."""
        locator = await self._target(ref, "")
        await self._act(locator.select_option(value, timeout=ACTION_TIMEOUT_MS), "select in", ref)
        return await self._after_action()

    async def scroll(self, direction: str = "down", amount: int = 600) -> dict:
        """Scroll the page up or down by amount pixels."""
        if direction not in {"up", "down"}:
            raise ToolError('browser.scroll: direction must be "up" or "down"')
        page = await self._ensure_page()
        delta = amount if direction == "down" else -amount
        await page.evaluate("d => window.scrollBy(0, d)", delta)
        observation = await self.observe()
        observation["scroll_y"] = await page.evaluate("() => window.scrollY")
        return observation

    async def back(self) -> dict:
        """Go back to the previous page."""
        page = await self._ensure_page()
        await self._act(page.go_back(timeout=NAVIGATION_TIMEOUT_MS), "go back", "")
        return await self.observe()

    async def read(self, max_chars: int = 20000) -> dict:
        """The visible text of the page (capped at max_chars): {url, title, text, truncated}."""
        page = await self._ensure_page()
        await self._leave_if_local("browser.read")
        text = await page.locator("body").inner_text(timeout=ACTION_TIMEOUT_MS)
        return {
            "url": page.url,
            "title": Untrusted(await page.title()),
            "text": Untrusted(text[:max_chars]),
            "truncated": len(text) > max_chars,
        }

    async def screenshot(self, full_page: bool = False) -> ExecImage:
        """A PNG screenshot of the page (the viewport, or the whole page)."""
        page = await self._ensure_page()
        await self._leave_if_local("browser.screenshot")
        png = await page.screenshot(full_page=full_page, type="png")
        size = page.viewport_size or VIEWPORT
        return ExecImage(png=png, width=size["width"], height=size["height"])

    async def wait_for(self, text: str = "", ref: str = "", timeout: float = 10.0) -> dict:
        """Wait until text (or the element ref) is visible on the page, up to timeout seconds."""
        locator = await self._target(ref, text, role_first=False)
        try:
            await locator.wait_for(state="visible", timeout=timeout * 1000)
        except Exception as exc:
            raise ToolError(
                f"browser.wait_for {text or ref!r}: not visible after {timeout:g} s "
                f"({_playwright_message(exc)})"
            ) from None
        return await self.observe()

    # --- observation ---------------------------------------------------------------------

    async def observe(self) -> dict:
        page = await self._ensure_page()
        await self._leave_if_local("browser")
        try:
            raw = await page.locator("body").aria_snapshot(mode="ai", timeout=ACTION_TIMEOUT_MS)
        except Exception as exc:
            raw = f"(no snapshot: {_playwright_message(exc)})"
        return {
            "url": page.url,
            "title": Untrusted(await page.title()),
            "snapshot": Untrusted(compact(raw)),
        }

    async def _after_action(self) -> dict:
        page = self._page
        # A click may have started a navigation: let it settle briefly.
        with contextlib.suppress(Exception):
            await page.wait_for_load_state("load", timeout=ACTION_TIMEOUT_MS)
        return await self.observe()

    async def _guard_local(self, on: bool) -> None:
        """Route requests through :meth:`_guard` only while it has something to refuse:
        routing every request slows pages down and shifts Chromium's navigation timing."""
        self._local_allowed, self._blocked = not on, None
        if on != self._guarding:
            if on:
                await self._context.route("**/*", self._guard)
            else:
                await self._context.unroute("**/*", self._guard)
            self._guarding = on

    async def _guard(self, route: Any) -> None:
        """A page opened as public must not reach this machine or the local network —
        by a redirect, a link, a script or a sub-request: the policy judged only the URL
        given to browser.open (and asks before opening a local one)."""
        request = route.request
        if not self._local_allowed and _is_web(request.url) and is_private_address(request.url):
            if _is_main_navigation(request):  # the model should hear why it went nowhere
                self._blocked = request.url
            await route.abort("blockedbyclient")
        else:
            await route.fallback()

    async def _leave_if_local(self, what: str) -> None:
        """Before anything of a page reaches the model: a server-side redirect slips past
        the route guard (Playwright does not route redirects), so check where it landed."""
        blocked, self._blocked = self._blocked, None
        page = self._page
        url = page.url if page is not None else ""
        if not self._local_allowed and _is_web(url) and is_private_address(url):
            blocked = url
            with contextlib.suppress(Exception):
                await page.goto("about:blank", timeout=ACTION_TIMEOUT_MS)
        if blocked is not None:
            raise ToolError(
                f"{what}: refused to let the page reach the local address {blocked}; "
                "open that URL directly if you need it (the person will be asked)"
            )

    # --- plumbing ------------------------------------------------------------------------

    async def _target(self, ref: str, text: str, *, role_first: bool = True) -> Any:
        page = await self._ensure_page()
        if ref:
            try:
                locator = page.locator(f"aria-ref={normalize_ref(ref)}")
            except ValueError:
                raise ToolError(
                    f"{ref!r} is not an element ref; use one like e12 from the latest snapshot"
                ) from None
            try:
                found = await locator.count()
            except Exception:
                found = 0
            if not found:  # fail at once instead of waiting for the action timeout
                raise ToolError(
                    f"no element {ref} on the page (refs change when the page changes); "
                    "use a ref from the latest snapshot"
                )
            return locator
        if text:
            by_text = page.get_by_text(text)
            if not role_first:
                return by_text.first
            button = page.get_by_role("button", name=text)
            link = page.get_by_role("link", name=text)
            return button.or_(link).or_(by_text).first
        raise ToolError("give an element ref (e.g. ref='e12') or text='...'")

    async def _act(self, action: Any, verb: str, target: str) -> None:
        try:
            await action
        except Exception as exc:
            message = _playwright_message(exc)
            if "aria-ref" in message or ("ref" in target and "not found" in message.lower()):
                message += "; take refs from the latest snapshot (each action returns one)"
            raise ToolError(f"browser: cannot {verb} {target}: {message}") from None

    async def _ensure_page(self) -> Any:
        connected = self._browser is not None and self._browser.is_connected()
        if connected and self._page is not None and not self._page.is_closed():
            return self._page
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._browser is not None and not self._browser.is_connected():
                await self.close()  # it crashed or was killed: start a new one
            if self._browser is None:
                await self._launch()
            if self._page is None or self._page.is_closed():
                self._page = await self._context.new_page()
        return self._page

    async def _launch(self) -> None:
        try:
            from playwright.async_api import async_playwright
        except ImportError as exc:  # pragma: no cover - playwright is a dependency
            raise ToolError("the browser needs playwright: pip install playwright") from exc
        self._playwright = await async_playwright().start()
        args = list(CHROMIUM_ARGS)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=find_chromium(self.config, self._playwright),
                headless=self.config.headless,
                args=args,
            )
        except Exception as exc:
            await self._playwright.stop()
            self._playwright = None
            raise ToolError(
                f"cannot start Chromium: {_playwright_message(exc)}; "
                "set [browser] executable in the config or run `playwright install chromium`"
            ) from None
        # Service workers would answer requests out of the guard's sight.
        self._context = await self._browser.new_context(viewport=VIEWPORT, service_workers="block")
        self._context.set_default_timeout(ACTION_TIMEOUT_MS)
        # A link opening a new tab: follow it, the model sees one page at a time.
        self._context.on("page", self._adopt_page)

    def _adopt_page(self, page: Any) -> None:
        self._page = page

    async def close(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = self._context = self._page = None
        self._guarding = self._local_allowed = False
        if browser is not None:
            with contextlib.suppress(Exception):  # already gone (crashed, killed)
                await browser.close()
        if playwright is not None:
            await playwright.stop()

    def tools(self) -> list[Any]:
        return [
            self.open, self.click, self.type, self.press, self.select, self.scroll,
            self.back, self.read, self.screenshot, self.wait_for,
        ]  # fmt: skip


def find_chromium(config: BrowserConfig, playwright: Any = None) -> str | None:
    """``[browser] executable``, else Playwright's own Chromium when installed, else the
    system one (Debian's /usr/bin/chromium)."""
    if config.executable:
        path = shutil.which(config.executable) or config.executable
        if not Path(path).exists():
            raise ToolError(
                f"browser executable {config.executable} does not exist",
                hint="fix [browser] executable in the config",
            )
        return path
    if playwright is not None:
        try:
            own = playwright.chromium.executable_path
        except Exception:
            own = ""
        if own and Path(own).exists():
            return None  # Playwright finds its own
    for candidate in SYSTEM_CHROMIUMS:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise ToolError(
        "no Chromium found",
        hint="install chromium, run `playwright install chromium`, or set [browser] executable",
    )


def _is_main_navigation(request: Any) -> bool:
    try:
        return bool(request.is_navigation_request() and request.frame.parent_frame is None)
    except Exception:  # a service worker's request has no frame
        return False


def _is_web(url: str) -> bool:
    return url.split(":", 1)[0].lower() in {"http", "https", "ws", "wss"}


def _playwright_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:300]
