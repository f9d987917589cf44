"""Building the sandbox image: from ``python:3.12-slim`` online, from Debian packages offline.

Two ways to the same shape of image (a non-root ``sandbox`` user with uid 1000, ``/workspace``,
the scientific stack, pip able to install into the user's home):

- **registry**: a small Dockerfile ``FROM python:3.12-slim`` plus ``pip install``;
- **offline**: ``mmdebstrap --variant=apt`` builds a bookworm root filesystem from Debian
  packages, then ``docker import`` turns the tarball into an image. This needs only a Debian
  mirror, which is why tests and CI use it. It runs when asked (``--offline``) and
  automatically when pulling the base image fails.

The runner is *not* in the image: it is sent at container start, so changing it never
forces a rebuild. Tags say what an image contains; the configured name
(``SandboxConfig.image``, ``autopilot-sandbox:latest`` by default) is an alias.

``python -m autopilot.sandbox.image [--offline] [--force] [--image NAME]`` builds it.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from autopilot.errors import SandboxError, UserError

Progress = Callable[[str], None]

IMAGE_REPOSITORY = "autopilot-sandbox"
IMAGE_REVISION = "v1"
OFFLINE_TAG = f"{IMAGE_REPOSITORY}:bookworm-py311-sci-{IMAGE_REVISION}"
REGISTRY_TAG = f"{IMAGE_REPOSITORY}:py312-slim-sci-{IMAGE_REVISION}"
REGISTRY_BASE = "python:3.12-slim"
SANDBOX_USER = "sandbox"
SANDBOX_UID = 1000
SANDBOX_HOME = "/home/sandbox"
# A font cache built at image time; the runner copies it into the (tmpfs) home so the first
# ``import matplotlib.pyplot`` in a session does not spend seconds scanning fonts.
MPL_CACHE_SEED = "/opt/autopilot/mplcache"

PIP_PACKAGES = ("numpy", "pandas", "matplotlib", "requests", "beautifulsoup4", "pillow", "openpyxl")
DEBIAN_PACKAGES = (
    "python3",
    "python3-numpy",
    "python3-pandas",
    "python3-matplotlib",
    "python3-pil",
    "python3-requests",
    "python3-bs4",
    "python3-openpyxl",
    "python3-pip",
    "ca-certificates",
    "fonts-dejavu-core",
    # fonttools needs "scipy | munkres": naming munkres keeps scipy, pythran, gcc and boost
    # (a gigabyte) out of the image.
    "python3-munkres",
)
DEFAULT_DEBIAN_SOURCES = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)

IMAGE_ENV = {
    "LANG": "C.UTF-8",
    "PYTHONUTF8": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
    "HOME": SANDBOX_HOME,
    # The container may run as the host user's uid, which has no passwd entry inside:
    # getpass.getuser() and friends read these first.
    "USER": SANDBOX_USER,
    "LOGNAME": SANDBOX_USER,
    "PATH": f"{SANDBOX_HOME}/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    # Debian marks its Python "externally managed"; the root filesystem is read-only anyway,
    # so pip installs into the user's home (tmpfs), which the runner keeps on sys.path.
    "PIP_BREAK_SYSTEM_PACKAGES": "1",
    "PIP_USER": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_WARN_SCRIPT_LOCATION": "1",
}


@dataclass(frozen=True)
class BuildResult:
    """What ``build_image`` did."""

    image: str
    tags: tuple[str, ...]
    method: Literal["registry", "offline", "existing"]
    duration_s: float


def image_exists(client: Any, name: str) -> bool:
    return _image_id(client, name) is not None


def build_image(
    image: str = "autopilot-sandbox:latest",
    *,
    offline: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    client: Any = None,
) -> BuildResult:
    """Build the sandbox image and tag it ``image``; skip when it exists unless ``force``."""
    from autopilot.sandbox._docker import docker_client

    say = progress or (lambda _line: None)
    client = client or docker_client(timeout=600)
    started = time.monotonic()
    previous = _image_id(client, image)
    if not force and previous is not None:
        say(f"{image} exists; nothing to do (use --force to rebuild)")
        return BuildResult(image, (image,), "existing", 0.0)
    result = None
    if not offline:
        try:
            tag = _build_from_registry(client, say)
        except _RegistryUnavailable as exc:
            say(f"registry build impossible ({exc}); building offline from Debian packages")
        else:
            result = _finish(client, tag, image, "registry", started, say)
    if result is None:
        tag = _build_offline(client, say)
        result = _finish(client, tag, image, "offline", started, say)
    if previous is not None and previous != _image_id(client, image):
        _remove_if_untagged(client, previous)
    return result


def _image_id(client: Any, name: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(name).id
    except ImageNotFound:
        return None


def _remove_if_untagged(client: Any, image_id: str) -> None:
    """A rebuild leaves the old image without tags: remove it unless a container uses it."""
    from docker.errors import APIError

    try:
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)
    except APIError:
        pass


def _finish(
    client: Any,
    tag: str,
    alias: str,
    method: Literal["registry", "offline"],
    started: float,
    say: Progress,
) -> BuildResult:
    built = client.images.get(tag)
    tags = [tag]
    if alias != tag:
        repository, _, name = alias.rpartition(":")
        if not repository or "/" in name:  # "name" alone, or a registry port without a tag
            repository, name = alias, "latest"
        built.tag(repository, name)
        tags.append(f"{repository}:{name}")
    duration = time.monotonic() - started
    say(f"built {', '.join(tags)} ({method}, {duration:.0f} s)")
    return BuildResult(alias, tuple(tags), method, duration)


# --- registry ---------------------------------------------------------------------------


class _RegistryUnavailable(Exception):
    pass


def _dockerfile() -> str:
    env = " \\\n    ".join(f'{key}="{value}"' for key, value in IMAGE_ENV.items())
    return f"""FROM {REGISTRY_BASE}
RUN pip install --no-cache-dir {" ".join(PIP_PACKAGES)} \\
 && useradd --uid {SANDBOX_UID} --user-group --create-home --shell /bin/bash {SANDBOX_USER} \\
 && mkdir -p /workspace {MPL_CACHE_SEED} && chown {SANDBOX_UID}:{SANDBOX_UID} /workspace \\
 && MPLCONFIGDIR={MPL_CACHE_SEED} python3 -c "import matplotlib.pyplot" \\
 && chmod -R a+rX {MPL_CACHE_SEED}
ENV {env}
USER {SANDBOX_USER}
WORKDIR /workspace
CMD ["python3"]
"""


def _build_from_registry(client: Any, say: Progress) -> str:
    from docker.errors import APIError

    say(f"pulling {REGISTRY_BASE}")
    try:
        client.images.pull(REGISTRY_BASE)
    except APIError as exc:
        raise _RegistryUnavailable(str(exc.explanation or exc).splitlines()[0][:160]) from exc
    say(f"building {REGISTRY_TAG} (pip install {' '.join(PIP_PACKAGES)})")
    stream = client.api.build(
        fileobj=io.BytesIO(_dockerfile().encode()), tag=REGISTRY_TAG, rm=True, decode=True
    )
    for event in stream:
        if "error" in event:
            raise SandboxError(
                f"building the sandbox image failed: {event['error'].strip()[:200]}",
                hint="retry with `autopilot sandbox build --offline`",
            )
        line = str(event.get("stream", "")).strip()
        if line:
            say(line)
    return REGISTRY_TAG


# --- offline (mmdebstrap) ---------------------------------------------------------------


def mmdebstrap_command(
    rootfs: Path, sources: tuple[str, ...] = DEFAULT_DEBIAN_SOURCES
) -> list[str]:
    """The mmdebstrap call that makes the offline root filesystem tarball."""
    hooks = [
        f'chroot "$1" useradd --uid {SANDBOX_UID} --user-group --create-home '
        f"--shell /bin/bash {SANDBOX_USER}",
        f'mkdir -p "$1/workspace" && chown {SANDBOX_UID}:{SANDBOX_UID} "$1/workspace"',
        f'mkdir -p "$1{MPL_CACHE_SEED}" && chroot "$1" env MPLCONFIGDIR={MPL_CACHE_SEED} '
        'MPLBACKEND=Agg python3 -c "import matplotlib.pyplot" '
        f'&& chmod -R a+rX "$1{MPL_CACHE_SEED}"',
        'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
    ]
    command = [
        "mmdebstrap",
        "--variant=apt",
        "--mode=auto",
        # Recommends would pull in compilers, boost and scipy: three times the size.
        '--aptopt=APT::Install-Recommends "false"',
        "--include=" + ",".join(DEBIAN_PACKAGES),
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--dpkgopt=path-exclude=/usr/share/info/*",
    ]
    command += [f"--customize-hook={hook}" for hook in hooks]
    command += ["bookworm", str(rootfs), *sources]
    return command


def import_changes() -> list[str]:
    """``docker import --change`` lines that give the imported rootfs its runtime shape."""
    changes = [f"ENV {key}={value}" for key, value in IMAGE_ENV.items()]
    changes += [f"USER {SANDBOX_USER}", "WORKDIR /workspace", 'CMD ["python3"]']
    changes.append(f"LABEL autopilot.image={OFFLINE_TAG}")
    return changes


def _build_offline(client: Any, say: Progress) -> str:
    if shutil.which("mmdebstrap") is None:
        raise UserError(
            "mmdebstrap is not installed, and the offline build needs it",
            hint="install it (`sudo apt-get install mmdebstrap`) or build with a registry",
        )
    sources = (
        tuple(
            line.strip()
            for line in os.environ.get("AUTOPILOT_DEBIAN_SOURCES", "").split(";")
            if line.strip()
        )
        or DEFAULT_DEBIAN_SOURCES
    )
    with tempfile.TemporaryDirectory(prefix="autopilot-image-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        command = mmdebstrap_command(rootfs, sources)
        say(
            f"building a bookworm root filesystem with mmdebstrap ({len(DEBIAN_PACKAGES)} packages)"
        )
        tail = _run_streaming(command, say)
        if not rootfs.exists() or rootfs.stat().st_size == 0:
            raise SandboxError(
                f"mmdebstrap failed: {tail[-1] if tail else 'no output'}",
                hint="check that a Debian mirror is reachable (AUTOPILOT_DEBIAN_SOURCES overrides it)",
            )
        size_mb = rootfs.stat().st_size / 1e6
        say(f"importing {size_mb:.0f} MB root filesystem as {OFFLINE_TAG}")
        repository, _, tag = OFFLINE_TAG.rpartition(":")
        client.api.import_image_from_file(
            str(rootfs), repository=repository, tag=tag, changes=import_changes()
        )
    return OFFLINE_TAG


def _run_streaming(command: list[str], say: Progress) -> list[str]:
    """Run ``command``, passing each output line to ``say``; return the last lines."""
    tail: list[str] = []
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip()
            if line:
                say(line)
                tail = [*tail[-19:], line]
        code = process.wait()
    if code != 0:
        raise SandboxError(
            f"mmdebstrap exited with {code}: {tail[-1] if tail else 'no output'}",
            hint="check that a Debian mirror is reachable (AUTOPILOT_DEBIAN_SOURCES overrides it)",
        )
    return tail


def main(argv: list[str] | None = None) -> int:
    """``python -m autopilot.sandbox.image``: build the image, showing progress."""
    parser = argparse.ArgumentParser(prog="python -m autopilot.sandbox.image")
    parser.add_argument("--offline", action="store_true", help="build from Debian packages")
    parser.add_argument("--force", action="store_true", help="rebuild even if the image exists")
    parser.add_argument("--image", default="autopilot-sandbox:latest", help="name to tag")
    args = parser.parse_args(argv)
    from autopilot.errors import AutopilotError

    try:
        build_image(args.image, offline=args.offline, force=args.force, progress=_print_progress)
    except AutopilotError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    return 0


def _print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
