"""Things that break a sandbox, each in a container of its own: it must recover, never hang."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docker.errors import NotFound

from autopilot.sandbox._docker import docker_client
from autopilot.sandbox.docker_sandbox import DockerSandbox
from autopilot.sandbox.orphans import list_sandboxes
from tests.sandbox.conftest import config_for_tests

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_interrupt_ignoring_loop_gets_a_restart(fresh_sandbox: DockerSandbox) -> None:
    fresh_sandbox.interrupt_grace_s = 1.0
    await fresh_sandbox.run("precious = 1")
    old_container = fresh_sandbox.container_id
    code = (
        "import time\n"
        "while True:\n"
        "    try:\n"
        "        time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n"
        "        pass"
    )
    started = time.monotonic()
    result = await fresh_sandbox.run(code, timeout=1.0)
    assert time.monotonic() - started < 6.0
    assert result.state_lost and result.timed_out
    assert result.error is not None and "restarted" in result.error.message
    assert fresh_sandbox.container_id != old_container
    after = await fresh_sandbox.run("'precious' in globals()")
    assert after.value == "False" and not after.state_lost


async def test_explicit_interrupt_of_an_ignoring_cell_restarts(
    fresh_sandbox: DockerSandbox,
) -> None:
    fresh_sandbox.interrupt_grace_s = 1.0
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"
    task = asyncio.ensure_future(fresh_sandbox.run(code))
    await asyncio.sleep(0.5)
    await fresh_sandbox.interrupt()
    result = await asyncio.wait_for(task, 10)
    assert result.state_lost and result.interrupted and not result.timed_out
    assert (await fresh_sandbox.run("2 * 21")).value == "42"


async def test_memory_bomb_is_oom_killed_and_restarted(fresh_sandbox: DockerSandbox) -> None:
    await fresh_sandbox.run("before = 1")
    started = time.monotonic()
    result = await fresh_sandbox.run(
        "chunks = []\nwhile True:\n    chunks.append(b'x' * 20_000_000)"
    )
    assert time.monotonic() - started < 10.0
    assert result.state_lost
    assert result.error is not None and result.error.type == "MemoryError"
    assert "256m" in result.error.message
    after = await fresh_sandbox.run("'before' in globals()")
    assert after.value == "False"


async def test_container_killed_from_outside_is_replaced(fresh_sandbox: DockerSandbox) -> None:
    await fresh_sandbox.run("x = 1")
    fresh_sandbox.docker.api.kill(fresh_sandbox.container_id)
    result = await asyncio.wait_for(fresh_sandbox.run("'x' in globals()"), 15)
    assert result.state_lost and result.value == "False"


async def test_container_killed_during_a_cell_reports_a_crash(fresh_sandbox: DockerSandbox) -> None:
    task = asyncio.ensure_future(fresh_sandbox.run("import time\ntime.sleep(30)"))
    await asyncio.sleep(0.5)
    await asyncio.to_thread(fresh_sandbox.docker.api.kill, fresh_sandbox.container_id)
    result = await asyncio.wait_for(task, 15)
    assert result.state_lost and result.error is not None
    assert result.error.type == "SandboxCrashed"
    assert (await fresh_sandbox.run("1")).value == "1"


async def test_runner_dying_is_detected(fresh_sandbox: DockerSandbox) -> None:
    result = await asyncio.wait_for(fresh_sandbox.run("import os\nos._exit(7)"), 15)
    assert result.state_lost and result.error is not None
    assert "status 7" in result.error.message
    assert (await fresh_sandbox.run("'back'")).value == "'back'"


async def test_fork_bomb_is_contained(fresh_sandbox: DockerSandbox) -> None:
    code = (
        "import os, time\n"
        "children = []\n"
        "try:\n"
        "    while len(children) < 5000:\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "except OSError as exc:\n"
        "    stopped_by = type(exc).__name__\n"
        "for pid in children:\n"
        "    os.kill(pid, 9)\n"
        "    os.waitpid(pid, 0)\n"
        "(len(children), stopped_by)"
    )
    result = await asyncio.wait_for(fresh_sandbox.run(code), 60)
    assert result.ok, result.error
    count, stopped_by = eval(result.value or "")  # a tuple of literals
    assert count < fresh_sandbox.config.pids_limit
    assert stopped_by == "BlockingIOError"
    assert (await fresh_sandbox.run("'alive'")).value == "'alive'"


async def test_restart_throws_the_namespace_away(fresh_sandbox: DockerSandbox) -> None:
    await fresh_sandbox.run("gone = 1")
    await fresh_sandbox.restart()
    assert (await fresh_sandbox.run("'gone' in globals()")).value == "False"


async def test_abandoned_stream_leaves_a_usable_sandbox(fresh_sandbox: DockerSandbox) -> None:
    stream = fresh_sandbox.stream("import time\nprint('go', flush=True)\ntime.sleep(60)")
    first = await stream.__anext__()
    assert getattr(first, "text", "") == "go\n"
    await stream.aclose()
    result = await asyncio.wait_for(fresh_sandbox.run("'next'"), 10)
    assert result.value == "'next'"


async def test_close_removes_the_container(sandbox_image: str, workspace: Path) -> None:
    sandbox = DockerSandbox(config_for_tests(), session_id="test-close", workspace=workspace)
    await sandbox.start()
    container_id = sandbox.container_id
    await sandbox.close()
    assert sandbox.state == "stopped"
    ids = [c.id for c in list_sandboxes(sandbox.docker)]
    assert container_id is not None and container_id[:12] not in ids


_OWNER_SCRIPT = """
import asyncio, sys
from pathlib import Path
from autopilot.config import SandboxConfig
from autopilot.sandbox.docker_sandbox import DockerSandbox

async def main():
    sandbox = DockerSandbox(SandboxConfig(), session_id=sys.argv[1], workspace=Path(sys.argv[2]))
    await sandbox.start()
    print(sandbox.container_id, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_sigkilled_owner_leaves_nothing_after_the_next_start(
    sandbox_image: str, workspace: Path
) -> None:
    owner = subprocess.Popen(  # noqa: ASYNC220 - it must be a real, separately killable process
        [sys.executable, "-c", _OWNER_SCRIPT, "test-orphan", str(workspace)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert owner.stdout is not None
    container_id = await asyncio.wait_for(asyncio.to_thread(owner.stdout.readline), 60)
    container_id = container_id.strip()[:12]
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    client = docker_client()
    orphan = [c for c in list_sandboxes(client) if c.id == container_id]
    # Still there, since a SIGKILL runs no cleanup (unless another process on this host
    # started a sandbox in between and reaped it already).
    assert all(c.orphaned for c in orphan)
    # Its stdin closed with the owner's connection, so the runner exits and it stops.
    with contextlib.suppress(NotFound):
        await asyncio.to_thread(client.api.wait, container_id, timeout=15)
        assert not client.api.inspect_container(container_id)["State"]["Running"]

    sandbox = DockerSandbox(config_for_tests(), session_id="test-reaper", workspace=workspace)
    async with sandbox:
        assert container_id not in [c.id for c in list_sandboxes(client)]
        assert sandbox.container_id is not None


async def test_pip_install_with_network_makes_a_package_importable(
    sandbox_image: str, workspace: Path
) -> None:
    config = config_for_tests(
        network=True, ca_bundle="/etc/ssl/certs/ca-certificates.crt", timeout_s=120.0
    )
    async with DockerSandbox(config, session_id="test-pip", workspace=workspace) as sandbox:
        missing = await sandbox.run("import tomli_w")
        assert missing.error is not None and missing.error.type == "ModuleNotFoundError"
        installed = await sandbox.run(
            "import subprocess, sys\n"
            "subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', 'tomli-w'])"
            ".returncode"
        )
        assert installed.value == "0", installed.stderr
        result = await sandbox.run("import tomli_w\ntomli_w.dumps({'a': 1})")
        assert result.value == "'a = 1\\n'"


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"memory": "lots"}, "memory"),  # refused by the docker SDK
        ({"memory": "1k"}, "memory"),  # refused by the engine
        ({"cpus": 999.0}, "CPUs"),
    ],
)
async def test_settings_docker_refuses_are_a_one_line_sandbox_error(
    sandbox_image: str, workspace: Path, changes: dict[str, object], said: str
) -> None:
    from autopilot.errors import SandboxError

    sandbox = DockerSandbox(
        config_for_tests(**changes), session_id="test-refused", workspace=workspace
    )
    try:
        with pytest.raises(SandboxError, match=said) as caught:
            await sandbox.start()
    finally:
        await sandbox.close()
    message = str(caught.value)
    assert "\n" not in message and "http+docker" not in message
    assert caught.value.hint and "sandbox." in caught.value.hint
    assert not [c for c in list_sandboxes(docker_client()) if c.session == "test-refused"]


async def test_a_planted_link_cannot_make_the_host_write_outside_the_workspace(
    fresh_sandbox: DockerSandbox, tmp_path: Path
) -> None:
    """The host saves long outputs into the workspace, which the sandbox controls: a link
    planted there must not carry the host's write to a host file (a sandbox escape)."""
    victim_dir = tmp_path / "host-only"
    victim_dir.mkdir()
    victim = victim_dir / "bashrc"
    victim.write_text("original\n")
    name = f"{fresh_sandbox.session_id}-{fresh_sandbox._cells + 2:04d}.txt"
    plant = (
        "import os\n"
        "os.makedirs('/workspace/.autopilot/outputs', exist_ok=True)\n"
        f"os.symlink({str(victim)!r}, '/workspace/.autopilot/outputs/{name}')"
    )
    assert (await fresh_sandbox.run(plant)).ok
    flood = await fresh_sandbox.run("print('echo pwned # ' * 1000)")
    assert flood.truncated and flood.full_output_path is None
    assert victim.read_text() == "original\n"
    assert (await fresh_sandbox.run("print('still fine')")).stdout == "still fine\n"
