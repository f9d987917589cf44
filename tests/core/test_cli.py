"""The real ``autopilot`` entry point, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autopilot import __version__


def autopilot(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "autopilot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def test_help_lists_the_commands_quickly() -> None:
    start = time.perf_counter()
    result = autopilot("--help")
    elapsed = time.perf_counter() - start
    assert result.returncode == 0
    for command in ("config", "keys", "doctor"):
        assert command in result.stdout
    # bench/startup.py measures the real figure; this only catches a heavy import creeping in.
    assert elapsed < 2.0


def test_version() -> None:
    result = autopilot("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"autopilot {__version__}"


def test_config_set_show_path_round_trip() -> None:
    path = autopilot("config", "path").stdout.strip()
    assert path.endswith("config.toml")
    assert autopilot("config", "set", "model", "openai/gpt-4o-mini").returncode == 0
    assert autopilot("config", "set", "sandbox.network", "true").returncode == 0
    shown = autopilot("config", "show")
    assert shown.returncode == 0
    assert 'model = "openai/gpt-4o-mini"' in shown.stdout
    assert "network = true" in shown.stdout
    assert Path(path).exists()
    # Flags override the file for one invocation only.
    flagged = autopilot("config", "show", "--model", "anthropic/claude")
    assert 'model = "anthropic/claude"' in flagged.stdout


def test_config_set_rejects_bad_value_with_exit_2() -> None:
    result = autopilot("config", "set", "approval_mode", "never")
    assert result.returncode == 2
    assert "'approval_mode' is 'never'; allowed: 'ask', 'auto'" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_config_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "x"\n[sandbox]\nmemory = 5\n')
    result = autopilot("--config", str(bad), "config", "show")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert (
        str(bad) in lines[0] and "'sandbox.memory'" in lines[0] and "allowed: a string" in lines[0]
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("model = [")
    result = autopilot("--debug", "--config", str(bad), "config", "show")
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_keys_set_list_delete_never_print_the_key() -> None:
    secret = "sk-live-0123456789SECRETabcd"
    env = {"OPENAI_API_KEY": ""}
    stored = autopilot("keys", "set", "openai", "--stdin", stdin=secret + "\n", env=env)
    assert stored.returncode == 0, stored.stderr
    assert "no OS keyring here" in stored.stderr  # the warning about the 0600 file
    listed = autopilot("keys", "list", env=env)
    assert "openai" in listed.stdout and "sk-…abcd" in listed.stdout
    for output in (stored.stdout + stored.stderr, listed.stdout + listed.stderr):
        assert secret not in output and "SECRET" not in output
    assert autopilot("keys", "delete", "openai", env=env).returncode == 0
    again = autopilot("keys", "delete", "openai", env=env)
    assert again.returncode == 2 and "no stored key for openai" in again.stderr


def test_unknown_command_is_usage_error() -> None:
    result = autopilot("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.integration
def test_doctor_reports_one_line_per_check_with_fixes() -> None:
    result = autopilot("doctor", "--offline", env={"DISPLAY": ""})
    lines = result.stdout.strip().splitlines()
    names = [line.split()[1] for line in lines[:-1]]
    assert names == [
        "python",
        "docker",
        "image",
        "chromium",
        "display",
        "keyring",
        "model",
        "local",
    ]
    for line in lines[:-1]:
        assert line.split()[0] in {"ok", "warn", "fail"}
        if not line.startswith("ok"):
            assert "— fix: " in line
    model_line = next(line for line in lines if line.split()[1] == "model")
    assert model_line.startswith("fail") and "autopilot config set model" in model_line
    assert result.returncode == 1  # a failing check fails the command
    docker_line = next(line for line in lines if line.split()[1] == "docker")
    assert docker_line.startswith("ok"), docker_line  # CI runs a real engine


def test_doctor_docker_failure_says_how_to_start_it() -> None:
    result = autopilot(
        "doctor", "--offline", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    )
    docker_line = next(line for line in result.stdout.splitlines() if line.split()[1] == "docker")
    assert docker_line.startswith("fail")
    assert "systemctl start docker" in docker_line


def test_only_commands_that_talk_to_a_model_start_the_local_one() -> None:
    import argparse

    from autopilot import cli

    parser = cli.build_parser()
    assert cli._needs_model(parser.parse_args([]))  # the chat
    assert cli._needs_model(parser.parse_args(["run", "task"]))
    assert not cli._needs_model(parser.parse_args(["config", "show"]))
    # The command says so itself (``needs_model``), whatever its handler is called.
    renamed = argparse.Namespace(handler=lambda args, config: 0, needs_model=True)
    assert cli._needs_model(renamed)


def test_a_crashing_doctor_check_is_reported_under_its_own_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from autopilot import doctor
    from autopilot.config import Config

    def broken(config: Config) -> doctor.Check:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "check_image", broken)
    checks = {c.name: c for c in doctor.run_checks(Config(), offline=True)}
    assert checks["image"].status == "fail"
    assert "RuntimeError: boom" in checks["image"].detail
