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
