"""Sandbox fixtures: the image (built offline when missing), shared and fresh sandboxes."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from autopilot.config import SandboxConfig
from autopilot.errors import AutopilotError
from autopilot.sandbox._docker import docker_client
from autopilot.sandbox.docker_sandbox import DockerSandbox
from autopilot.sandbox.image import SANDBOX_UID, build_image, image_exists

IMAGE = SandboxConfig().image


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Build a missing image before the first test, outside any one test's timeout."""
    if config.option.collectonly:
        return
    if any("sandbox_image" in getattr(item, "fixturenames", ()) for item in items):
        # On failure the sandbox_image fixture raises again, in the tests that need it.
        with contextlib.suppress(AutopilotError):
            if not image_exists(docker_client(), IMAGE):
                build_image(IMAGE, offline=True, progress=lambda line: print(line, file=sys.stderr))


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    """The sandbox image; built offline from Debian packages if this machine lacks it."""
    build_image(IMAGE, offline=True)  # a no-op when the image exists
    return IMAGE


def make_workspace() -> Path:
    """A workspace the sandbox user can write to (the host may be root, the sandbox is not)."""
    path = Path(tempfile.mkdtemp(prefix="autopilot-ws-"))
    if os.getuid() == 0:
        os.chown(path, SANDBOX_UID, SANDBOX_UID)
    return path


@pytest.fixture
def workspace() -> Iterator[Path]:
    path = make_workspace()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def config_for_tests(**changes: object) -> SandboxConfig:
    base = {"timeout_s": 20.0, "memory": "512m", "output_cap_chars": 2000}
    base.update(changes)
    return SandboxConfig(**base)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_sandbox(sandbox_image: str) -> AsyncIterator[DockerSandbox]:
    """One container for a whole test module: tests that keep its state intact share it."""
    workspace = make_workspace()
    sandbox = DockerSandbox(config_for_tests(), session_id="test-shared", workspace=workspace)
    await sandbox.start()
    yield sandbox
    await sandbox.close()
    shutil.rmtree(workspace, ignore_errors=True)


@pytest_asyncio.fixture
async def fresh_sandbox(sandbox_image: str, workspace: Path) -> AsyncIterator[DockerSandbox]:
    """A container of its own, for a test that destroys state."""
    sandbox = DockerSandbox(
        config_for_tests(memory="256m", timeout_s=10.0),
        session_id="test-fresh",
        workspace=workspace,
    )
    await sandbox.start()
    yield sandbox
    await sandbox.close()
