"""``autopilot doctor``: one line per check with ok / warn / fail and the exact fix."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from autopilot.config import Config

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def run_checks(config: Config, *, offline: bool = False) -> list[Check]:
    # Named here, so a check that crashes is still reported under its own name.
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("python", check_python),
        ("docker", lambda: check_docker(config)),
        ("image", lambda: check_image(config)),
        ("chromium", lambda: check_chromium(config)),
        ("display", check_display),
        ("keyring", check_keyring),
        ("model", lambda: check_model(config, offline=offline)),
        ("local", lambda: check_local_model(config)),
    ]
    results = []
    for name, check in checks:
        try:
            results.append(check())
        except Exception as exc:  # a check must never crash the report
            results.append(
                Check(name, "fail", f"the check itself failed: {type(exc).__name__}: {exc}")
            )
    return results


def print_report(checks: list[Check]) -> int:
    width = max(len(c.name) for c in checks)
    for check in checks:
        line = f"{check.status:<4}  {check.name:<{width}}  {check.detail}"
        if check.fix and check.status != "ok":
            line += f" — fix: {check.fix}"
        print(line)
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    print(f"{len(checks) - failed - warned} ok, {warned} warn, {failed} fail")
    return 1 if failed else 0


def check_python() -> Check:
    # The package cannot install on an older Python (requires-python), so this only reports.
    version = ".".join(map(str, sys.version_info[:3]))
    return Check("python", "ok", f"Python {version} at {sys.executable}")


def _docker_client():  # -> docker.DockerClient
    import docker

    return docker.from_env(timeout=5)


def check_docker(config: Config) -> Check:
    if config.sandbox.backend == "local":
        return Check(
            "docker",
            "warn",
            "sandbox backend is 'local': code runs UNISOLATED on this machine",
            "`autopilot config set sandbox.backend docker` once Docker runs",
        )
    fix = "start it: `sudo systemctl start docker` (or `sudo dockerd &`); install: `./install.sh --with-docker`"
    try:
        client = _docker_client()
        version = client.version().get("Version", "?")
    except Exception as exc:
        return Check("docker", "fail", f"engine not reachable ({_short(exc)})", fix)
    return Check("docker", "ok", f"engine {version} at {client.api.base_url}")


def check_image(config: Config) -> Check:
    if config.sandbox.backend == "local":
        return Check("image", "ok", "not needed for the local backend")
    image = config.sandbox.image
    fix = "`autopilot sandbox build` (add `--offline` without a registry)"
    try:
        client = _docker_client()
        client.images.get(image)
    except Exception as exc:
        if type(exc).__name__ == "ImageNotFound":
            return Check("image", "fail", f"sandbox image {image} is not built", fix)
        return Check(
            "image", "fail", f"cannot look up {image} ({_short(exc)})", "start Docker first"
        )
    return Check("image", "ok", f"sandbox image {image} present")


def find_chromium(config: Config) -> str | None:
    if config.browser.executable:
        return config.browser.executable if Path(config.browser.executable).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    cache = Path(
        os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright")
    )
    found = sorted(cache.glob("chromium-*/chrome-linux*/chrome"))
    return str(found[-1]) if found else None


def check_chromium(config: Config) -> Check:
    path = find_chromium(config)
    if path:
        return Check("chromium", "ok", f"browser at {path}")
    return Check(
        "chromium",
        "warn",
        "no Chromium found: browser tools unavailable",
        "`sudo apt-get install chromium` or `playwright install chromium`, "
        "or `autopilot config set browser.executable /path/to/chrome`",
    )


def check_display() -> Check:
    display = os.environ.get("DISPLAY", "")
    if os.environ.get("WAYLAND_DISPLAY") and not display:
        return Check(
            "display",
            "warn",
            "Wayland without XWayland DISPLAY: desktop control needs X11",
            "run under an X11 session or set DISPLAY",
        )
    if not display:
        return Check(
            "display",
            "warn",
            "no DISPLAY: desktop tools unavailable",
            "run in a desktop session, or start a virtual one: `Xvfb :99 & export DISPLAY=:99`",
        )
    number = display.split(":")[-1].split(".")[0]
    socket = Path(f"/tmp/.X11-unix/X{number}")
    if display.startswith(":") and not socket.exists():
        return Check(
            "display",
            "fail",
            f"DISPLAY={display} but no X server socket {socket}",
            f"start the X server for {display}",
        )
    return Check("display", "ok", f"X display {display}")


def check_keyring() -> Check:
    from autopilot.keys import backend_description

    kind, description = backend_description()
    if kind == "keyring":
        return Check("keyring", "ok", description)
    return Check(
        "keyring",
        "warn",
        f"keys stored in a {description}",
        "install a Secret Service (gnome-keyring / KWallet) for OS-level key storage, or use env vars",
    )


def check_model(config: Config, *, offline: bool) -> Check:
    if not config.model:
        return Check(
            "model",
            "fail",
            "no model configured",
            "`autopilot config set model openai/gpt-4o-mini` and `autopilot keys set openai`, "
            "or run `autopilot --local` (an embedded model, no key needed)",
        )
    if offline:
        return Check("model", "ok", f"{config.model} configured (not contacted: --offline)")
    import asyncio

    from autopilot.errors import AutopilotError

    try:
        reply = asyncio.run(asyncio.wait_for(_ping(config), timeout=config.llm.timeout_s + 5))
    except AutopilotError as exc:
        return Check("model", "fail", f"{config.model}: {exc.message}", exc.hint or "")
    except TimeoutError:
        return Check(
            "model", "fail", f"{config.model}: no answer in time", "check api_base and the network"
        )
    where = f" at {config.api_base}" if config.api_base else ""
    return Check("model", "ok", f"{config.model}{where} answered ({reply!r})")


def check_local_model(config: Config) -> Check:
    import importlib.util

    from autopilot.llm.local import HUB_MODELS, is_gguf, models_cache_dir

    fix = "`./install.sh --local` (or `pip install 'autopilot[local]'`)"
    if importlib.util.find_spec("llama_cpp") is None:
        return Check(
            "local", "warn", "embedded model not installed (`autopilot --local` unavailable)", fix
        )
    if config.local.model_path:
        path = Path(config.local.model_path).expanduser()
        if not is_gguf(path):
            return Check(
                "local", "fail", f"local.model_path {path} is missing or not a GGUF file",
                "point local.model_path at a .gguf file",
            )  # fmt: skip
        return Check("local", "ok", f"embedded model ready: {path}")
    cached = models_cache_dir() / HUB_MODELS[config.local.model].filename
    if is_gguf(cached):
        return Check("local", "ok", f"embedded model ready: {cached}")
    hub = HUB_MODELS[config.local.model]
    return Check(
        "local",
        "ok",
        f"llama-cpp-python installed; {hub.filename} ({hub.size_hint}) is fetched on first use",
    )


async def _ping(config: Config) -> str:
    from dataclasses import replace

    from autopilot.llm import Message, TextDelta, create_llm

    quick = replace(
        config, llm=replace(config.llm, max_retries=0, timeout_s=min(config.llm.timeout_s, 20.0))
    )
    llm = create_llm(quick)
    text = ""
    stream = llm.stream([Message("user", "Reply with the single word: ok")])
    try:
        async for chunk in stream:
            if isinstance(chunk, TextDelta):
                text += chunk.text
                if len(text) >= 12:
                    break
    finally:
        await stream.aclose()
    return text.strip()[:12]


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
