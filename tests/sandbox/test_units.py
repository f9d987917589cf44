"""Unit tests of the host-side pieces: framing, demultiplexing, output capping, labels."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

from autopilot.sandbox._output import OutputCollector
from autopilot.sandbox._protocol import DockerDemux, FrameDecoder, encode_frame
from autopilot.sandbox.image import DEBIAN_PACKAGES, import_changes, mmdebstrap_command
from autopilot.sandbox.orphans import owner_alive, owner_labels, process_start_time
from autopilot.sandbox.runner import BOOTSTRAP


def test_frames_survive_any_split() -> None:
    frames = [({"type": "out", "id": 1}, b"\x00\xffbinary"), ({"type": "result", "id": 1}, b"")]
    data = b"".join(encode_frame(h, p) for h, p in frames)
    for size in (1, 3, 7, len(data)):
        decoder = FrameDecoder()
        got = []
        for start in range(0, len(data), size):
            got += decoder.feed(data[start : start + size])
        assert got == frames


def test_docker_demux_separates_streams() -> None:
    def piece(stream: int, data: bytes) -> bytes:
        return struct.pack(">BxxxI", stream, len(data)) + data

    raw = piece(1, b"proto") + piece(2, b"diag") + piece(1, b"col")
    demux = DockerDemux()
    got = [p for i in range(len(raw)) for p in demux.feed(raw[i : i + 1])]
    assert got == [(1, b"proto"), (2, b"diag"), (1, b"col")]


def test_output_under_the_cap_is_kept_whole(tmp_path: Path) -> None:
    collector = OutputCollector(100, tmp_path / "o.txt", "/workspace/o.txt")
    collector.add("stdout", "hello\n")
    collector.add("stderr", "warn\n")
    assert collector.finish() == ("hello\n", "warn\n", False, None)
    assert not (tmp_path / "o.txt").exists()


def test_output_over_the_cap_keeps_head_and_tail_and_saves_all(tmp_path: Path) -> None:
    collector = OutputCollector(100, tmp_path / "o.txt", "/workspace/o.txt")
    text = "".join(f"{i:04d}\n" for i in range(1000))
    for start in range(0, len(text), 37):
        collector.add("stdout", text[start : start + 37])
    collector.add("stderr", "err\n")
    stdout, stderr, truncated, path = collector.finish()
    assert truncated and path == "/workspace/o.txt"
    assert stdout.startswith(text[:50]) and stdout.endswith(text[-50:])
    assert f"{len(text) - 100:,} characters cut" in stdout
    assert stderr == "err\n"
    assert (tmp_path / "o.txt").read_text() == text + "err\n"


def test_a_cap_of_zero_means_no_cap(tmp_path: Path) -> None:
    collector = OutputCollector(0, tmp_path / "o.txt", "o.txt")
    collector.add("stdout", "x" * 100_000)
    assert collector.finish() == ("x" * 100_000, "", False, None)


def test_offline_build_command_has_user_workspace_and_no_recommends(tmp_path: Path) -> None:
    command = mmdebstrap_command(tmp_path / "rootfs.tar")
    joined = " ".join(command)
    assert command[0] == "mmdebstrap" and "--variant=apt" in command
    assert "useradd --uid 1000" in joined and "/workspace" in joined
    assert 'APT::Install-Recommends "false"' in joined
    assert all(package in joined for package in DEBIAN_PACKAGES)
    changes = import_changes()
    assert "USER sandbox" in changes and "WORKDIR /workspace" in changes
    assert 'CMD ["python3"]' in changes


def test_owner_labels_describe_this_process() -> None:
    labels = owner_labels("s1")
    assert labels["autopilot.session"] == "s1"
    assert labels["autopilot.owner_pid"] == str(os.getpid())
    assert labels["autopilot.host"] == socket.gethostname()
    assert labels["autopilot.owner_start"] == process_start_time(os.getpid()) != ""
    assert owner_alive(labels)


def test_dead_or_reused_owner_pids_are_orphans() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    labels = owner_labels("s1") | {"autopilot.owner_pid": str(dead.pid)}
    labels["autopilot.owner_start"] = "1"
    assert not owner_alive(labels)
    reused = owner_labels("s1") | {"autopilot.owner_start": "12345"}  # our pid, other start
    assert not owner_alive(reused)
    elsewhere = reused | {"autopilot.host": "another-machine"}
    assert owner_alive(elsewhere)  # not ours to judge


def test_runner_bootstrap_runs_in_a_plain_subprocess(tmp_path: Path) -> None:
    source = (Path(__file__).parents[2] / "autopilot/sandbox/runner.py").read_bytes()
    code = encode_frame({"type": "exec", "id": 1, "name": "t"}, b"print('hi')\n6 * 7")
    process = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP],
        input=len(source).to_bytes(4, "big") + source + code,
        capture_output=True,
        timeout=30,
        cwd=tmp_path,
    )
    frames = FrameDecoder().feed(process.stdout)
    kinds = [header["type"] for header, _ in frames]
    assert kinds == ["ready", "out", "result"], process.stderr
    assert frames[1][1] == b"hi\n"
    assert frames[2][0]["value"] == "42"
    assert json.dumps(frames[2][0])  # plain JSON headers


async def test_a_client_closed_while_the_loop_is_behind_still_reports_closed() -> None:
    """Closing while every read batch waits for the loop must not leave waiters hanging."""
    import asyncio
    import queue

    from autopilot.sandbox import _client

    class Pipe:
        def __init__(self) -> None:
            self.chunks: queue.Queue[bytes] = queue.Queue()

        def send(self, data: bytes) -> None:
            pass

        def recv(self) -> bytes:
            return self.chunks.get(timeout=10)

        def close(self) -> None:
            self.chunks.put(b"")

    pipe = Pipe()
    client = _client.RunnerClient(pipe, asyncio.get_running_loop())
    for _ in range(_client.MAX_BATCHES_IN_FLIGHT):  # the loop is busy: no batch is taken
        assert client._in_flight.acquire(timeout=1)
    pipe.chunks.put(encode_frame({"type": "pong", "id": 1}))
    await asyncio.sleep(0.1)  # the reader now waits for room
    client._stopping = True  # what close() sets, without closing the pipe under it
    await asyncio.wait_for(asyncio.shield(client.closed), 5)
    assert client.ready.done()


def test_the_home_folder_and_autopilots_own_folders_are_never_mounted(tmp_path: Path) -> None:
    """A workspace holding ~ (or ~/.local/share/autopilot, where keys may live) would hand
    the sandboxed code the person's keys, ssh keys and shell start-up files."""
    import pytest

    from autopilot.config import SandboxConfig, data_dir
    from autopilot.errors import SandboxError
    from autopilot.sandbox.docker_sandbox import DockerSandbox

    def spec(workspace: Path) -> object:
        sandbox = DockerSandbox(
            SandboxConfig(), session_id="s", workspace=workspace, client=object()
        )
        return sandbox.container_spec()

    for refused in (Path.home(), Path("/"), data_dir().parent):
        with pytest.raises(SandboxError, match="working folder") as caught:
            spec(refused)
        assert caught.value.hint and "sandbox.workspace" in caught.value.hint
    _create, host = spec(tmp_path)  # type: ignore[misc]
    assert host["binds"] == {str(tmp_path.resolve()): {"bind": "/workspace", "mode": "rw"}}


def _spill(collector: OutputCollector) -> tuple[str, str, bool, str | None]:
    collector.add("stdout", "PAYLOAD " * 50)
    return collector.finish()


def test_saved_output_never_follows_a_link_the_sandbox_planted(tmp_path: Path) -> None:
    """The sandbox owns the workspace: a symlink there must not make the host write elsewhere."""
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    victim = outside / "bashrc"
    victim.write_text("original\n")
    # the file itself is a link to a host file
    (workspace / "out").mkdir()
    (workspace / "out" / "cell-1.txt").symlink_to(victim)
    collector = OutputCollector(
        100, workspace / "out" / "cell-1.txt", "/w/out/cell-1.txt", workspace
    )
    stdout, _, truncated, path = _spill(collector)
    assert truncated and path is None and "could not be saved" in stdout
    # a folder on the way is a link to a host folder
    (workspace / ".autopilot").symlink_to(outside)
    collector = OutputCollector(100, workspace / ".autopilot" / "x.txt", "/w/x.txt", workspace)
    assert _spill(collector)[3] is None
    assert victim.read_text() == "original\n" and sorted(p.name for p in outside.iterdir()) == [
        "bashrc"
    ]
    # a FIFO would block the host for ever: refused at once
    os.mkfifo(workspace / "out" / "cell-2.txt")
    collector = OutputCollector(
        100, workspace / "out" / "cell-2.txt", "/w/out/cell-2.txt", workspace
    )
    assert _spill(collector)[3] is None
    # the normal case still saves the whole output, creating the folders
    collector = OutputCollector(100, workspace / "new" / "deep" / "c.txt", "/w/c.txt", workspace)
    assert _spill(collector)[3] == "/w/c.txt"
    assert (workspace / "new" / "deep" / "c.txt").read_text() == "PAYLOAD " * 50


def test_a_frame_claiming_gigabytes_is_refused_before_it_is_buffered() -> None:
    """Code in the sandbox can write to the channel: it must not make the host buffer 4 GiB."""
    import pytest

    from autopilot.sandbox._protocol import FRAME, MAX_FRAME_BYTES

    decoder = FrameDecoder()
    with pytest.raises(ValueError, match="frame"):
        decoder.feed(FRAME.pack(2, MAX_FRAME_BYTES) + b"{}")
    assert FrameDecoder().feed(encode_frame({"type": "out"}, b"x" * 1000))[0][1] == b"x" * 1000
