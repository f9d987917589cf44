"""Fixtures for the tool tests: the local test site, a real Xvfb display."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.site import LocalSite


@pytest.fixture(scope="session")
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A real X server (Xvfb, 1280x800) for the desktop tests; yields its DISPLAY."""
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is required for the desktop tests (apt-get install xvfb)"
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not report a display number"
    (Path.home() / ".Xauthority").touch(exist_ok=True)
    try:
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)
