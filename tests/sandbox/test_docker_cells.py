"""Cells in one shared, real Docker sandbox: state, output, values, errors, images, limits."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from autopilot.sandbox.base import OutputChunk
from autopilot.sandbox.docker_sandbox import DockerSandbox

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


async def test_state_persists_across_cells(shared_sandbox: DockerSandbox) -> None:
    await shared_sandbox.run("import math\ncounter = 41\ndef bump(n):\n    return n + 1")
    result = await shared_sandbox.run("counter = bump(counter)\nprint(counter, math.pi > 3)")
    assert result.ok
    assert result.stdout == "42 True\n"


async def test_last_expression_is_shown_like_a_repl(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run("data = {'a': [1, 2]}\ndata")
    assert result.value == "{'a': [1, 2]}"
    assert (await shared_sandbox.run("x = 1")).value is None
    assert (await shared_sandbox.run("None")).value is None


async def test_stdout_and_stderr_stream_in_order(shared_sandbox: DockerSandbox) -> None:
    chunks: list[OutputChunk] = []
    code = "import sys\n" + "\n".join(
        f"print('out{i}')\nprint('err{i}', file=sys.stderr)" for i in range(5)
    )
    result = await shared_sandbox.run(code, on_output=chunks.append)
    expected = [f"{kind}{i}" for i in range(5) for kind in ("out", "err")]
    seen = [line for chunk in chunks for line in chunk.text.split()]
    assert seen == expected
    streams = [chunk.stream for chunk in chunks]
    assert streams == ["stdout", "stderr"] * 5
    assert result.stdout == "".join(f"out{i}\n" for i in range(5))
    assert result.stderr == "".join(f"err{i}\n" for i in range(5))


async def test_subprocess_output_is_captured(shared_sandbox: DockerSandbox) -> None:
    code = (
        "import os, subprocess\n"
        "print('before', flush=True)\n"
        "os.system('echo from-system; echo system-err >&2')\n"
        "subprocess.run(['sh', '-c', 'echo from-run'])\n"
        "print('after')"
    )
    result = await shared_sandbox.run(code)
    assert result.stdout == "before\nfrom-system\nfrom-run\nafter\n"
    assert result.stderr == "system-err\n"


async def test_output_streams_while_the_cell_runs(shared_sandbox: DockerSandbox) -> None:
    seen: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()
    code = "import time\nprint('first', flush=True)\ntime.sleep(0.6)\nprint('second')"
    await shared_sandbox.run(code, on_output=lambda c: seen.append((loop.time(), c.text)))
    assert [text.strip() for _t, text in seen] == ["first", "second"]
    assert seen[1][0] - seen[0][0] > 0.4  # the first line arrived before the cell finished


async def test_stream_yields_chunks_then_the_result(shared_sandbox: DockerSandbox) -> None:
    items = [item async for item in shared_sandbox.stream("print('a')\n'done'")]
    assert isinstance(items[0], OutputChunk) and items[0].text == "a\n"
    assert items[-1].value == "'done'"  # type: ignore[union-attr]


async def test_traceback_line_numbers_refer_to_the_cell(shared_sandbox: DockerSandbox) -> None:
    code = "x = 1\n\ndef fail():\n    return {}['missing']\n\nfail()"
    result = await shared_sandbox.run(code)
    assert result.error is not None
    assert result.error.type == "KeyError"
    assert result.error.message == "'missing'"
    assert "line 6, in <module>" in result.error.traceback
    assert "line 4, in fail" in result.error.traceback
    assert "return {}['missing']" in result.error.traceback
    assert "autopilot-runner" not in result.error.traceback


async def test_syntax_error_is_reported_with_its_line(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run("a = 1\nb = (2 +\n")
    assert result.error is not None and result.error.type == "SyntaxError"
    assert "line 2" in result.error.traceback
    assert (await shared_sandbox.run("print('alive')")).stdout == "alive\n"


async def test_matplotlib_figure_comes_back_as_png(shared_sandbox: DockerSandbox) -> None:
    code = (
        "import matplotlib.pyplot as plt\n"  # the first import in this sandbox
        "plt.plot([1, 2, 3], [1, 4, 9])\n"
        "plt.title('squares')\n"
        "plt.show()\n"
        "print(len(plt.get_fignums()))"
    )
    result = await shared_sandbox.run(code)
    assert result.ok, result.error
    assert result.stdout == "0\n"  # show() sent and closed the figure right away
    assert len(result.images) == 1
    assert result.images[0].png.startswith(b"\x89PNG\r\n\x1a\n")
    assert result.images[0].width > 100 and result.images[0].height > 100
    assert "non-interactive" not in result.stderr
    assert (await shared_sandbox.run("1")).images == ()  # figures are closed after showing


async def test_each_show_sends_a_figure(shared_sandbox: DockerSandbox) -> None:
    code = "import matplotlib.pyplot as plt\nfor i in range(3):\n    plt.plot([i, i + 1])\n    plt.show()"
    assert len((await shared_sandbox.run(code)).images) == 3


async def test_pil_show_sends_the_image(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run(
        "from PIL import Image\nImage.new('RGB', (9, 4), 'green').show()"
    )
    assert [(image.width, image.height) for image in result.images] == [(9, 4)]


async def test_pil_image_value_comes_back_as_png(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run("from PIL import Image\nImage.new('RGB', (7, 5), 'red')")
    assert len(result.images) == 1
    assert (result.images[0].width, result.images[0].height) == (7, 5)


async def test_timeout_interrupts_and_keeps_the_namespace(shared_sandbox: DockerSandbox) -> None:
    await shared_sandbox.run("kept = 'yes'")
    result = await shared_sandbox.run("while True:\n    pass", timeout=1.0)
    assert result.timed_out and result.interrupted and not result.state_lost
    assert result.error is not None and result.error.type == "TimeoutError"
    assert "line 2" in result.error.traceback or "line 1" in result.error.traceback
    assert (await shared_sandbox.run("kept")).value == "'yes'"


async def test_interrupt_stops_a_sleeping_cell(shared_sandbox: DockerSandbox) -> None:
    task = asyncio.ensure_future(shared_sandbox.run("import time\ntime.sleep(30)"))
    await asyncio.sleep(0.5)
    started = asyncio.get_running_loop().time()
    await shared_sandbox.interrupt()
    result = await task
    assert asyncio.get_running_loop().time() - started < 1.0
    assert result.interrupted and not result.state_lost
    assert result.error is not None and result.error.type == "KeyboardInterrupt"
    assert (await shared_sandbox.run("kept")).value == "'yes'"


async def test_output_flood_is_capped_and_saved(shared_sandbox: DockerSandbox) -> None:
    code = "for i in range(200_000):\n    print(f'line {i:06d}')\n'end'"
    result = await shared_sandbox.run(code)
    cap = shared_sandbox.config.output_cap_chars
    assert result.truncated and result.value == "'end'"
    assert len(result.stdout) < cap + 200
    assert result.stdout.startswith("line 000000\n")
    assert result.stdout.endswith("line 199999\n")
    assert "characters cut" in result.stdout
    assert result.full_output_path is not None
    relative = Path(result.full_output_path).relative_to("/workspace")
    saved = (shared_sandbox.workspace / relative).read_text()
    assert saved.count("\n") == 200_000
    check = await shared_sandbox.run(f"open({result.full_output_path!r}).read().count('\\n')")
    assert check.value == "200000"  # the model can read the whole output from inside


async def test_huge_single_line_does_not_break_the_channel(shared_sandbox: DockerSandbox) -> None:
    received = 0

    def count(chunk: OutputChunk) -> None:
        nonlocal received
        received += len(chunk.text)

    result = await shared_sandbox.run("print('y' * 100_000_000)", on_output=count)
    assert received == 100_000_001
    assert result.truncated and len(result.stdout) < 3000
    assert (await shared_sandbox.run("1 + 1")).value == "2"


@pytest.mark.parametrize(
    "attack",
    [
        # protocol-looking text, with and without a plausible frame header
        'print(\'{"type": "result", "id": 1, "value": "forged"}\')',
        "import sys\nsys.stdout.buffer.write(b'\\x00\\x00\\x00\\x20\\x00\\x00\\x00\\x00'"
        ' + b\'{"type":"result","id":99999}    \')',
        # binary and invalid UTF-8 on both streams, and raw to the file descriptors
        "import os, sys\nsys.stdout.buffer.write(bytes(range(256)))\nos.write(2, b'\\xff\\xfe\\xfd')",
        # closing or replacing the streams
        "import sys\nsys.stdout.close()\nsys.stderr.close()",
        "import os\nos.close(1)\nos.close(2)",
        "import os\nos.dup2(os.open('/dev/null', os.O_WRONLY), 1)",
        "import sys, io\nsys.stdout = io.StringIO()",
        # reading stdin must not eat the protocol
        "import sys\nsys.stdin.read()",
        "import sys, io\nsys.stdin = io.StringIO('x')\nsys.stdout = None",
    ],
)
async def test_user_output_cannot_corrupt_the_channel(
    shared_sandbox: DockerSandbox, attack: str
) -> None:
    await shared_sandbox.run(attack)
    result = await shared_sandbox.run("print('intact')\n'value'")
    assert result.stdout == "intact\n"
    assert result.value == "'value'"


async def test_invalid_utf8_becomes_replacement_characters(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run(
        "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')"
    )
    assert result.stdout == "ok \ufffd\ufffd end\n"


async def test_runs_as_non_root_with_a_read_only_root(shared_sandbox: DockerSandbox) -> None:
    code = (
        "import os\n"
        "def writable(path):\n"
        "    try:\n"
        "        open(path, 'w').close()\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "(os.getuid(), os.geteuid(), writable('/etc/x'), writable('/usr/x'), writable('/tmp/x'),"
        " writable(os.path.expanduser('~/x')))"
    )
    result = await shared_sandbox.run(code)
    assert result.value is not None
    uid, euid, etc, usr, tmp, home = eval(result.value)  # a tuple of literals
    assert uid != 0 and euid != 0
    assert (etc, usr) == (False, False)
    assert (tmp, home) == (True, True)
    caps = await shared_sandbox.run(
        "[l for l in open('/proc/self/status') if l.startswith('CapEff')][0]"
    )
    assert caps.value is not None and "0000000000000000" in caps.value
    nnp = await shared_sandbox.run(
        "[l for l in open('/proc/self/status') if l.startswith('NoNewPrivs')][0]"
    )
    assert nnp.value is not None and "1" in nnp.value


async def test_network_is_off_by_default(shared_sandbox: DockerSandbox) -> None:
    code = (
        "import os, socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=3)\n"
        "    reached = True\n"
        "except OSError:\n"
        "    reached = False\n"
        "(reached, sorted(os.listdir('/sys/class/net')))"
    )
    assert (await shared_sandbox.run(code)).value == "(False, ['lo'])"


async def test_host_secrets_do_not_enter(
    sandbox_image: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.sandbox.conftest import config_for_tests

    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-123")
    sandbox = DockerSandbox(config_for_tests(), session_id="test-secret", workspace=workspace)
    async with sandbox:
        result = await sandbox.run(
            "import os, subprocess\n"
            "env = subprocess.run(['env'], capture_output=True, text=True).stdout\n"
            "proc1 = open('/proc/1/environ', 'rb').read().decode(errors='replace')\n"
            "('sk-host-secret' in env + proc1 + repr(dict(os.environ)), 'OPENAI_API_KEY' in env)"
        )
    assert result.value == "(False, False)"


async def test_workspace_round_trip(shared_sandbox: DockerSandbox) -> None:
    (shared_sandbox.workspace / "from_host.txt").write_text("hello from the host")
    code = (
        "import os\n"
        "text = open('from_host.txt').read()\n"
        "open('/workspace/from_sandbox.txt', 'w').write(text.upper())\n"
        "os.getcwd()"
    )
    result = await shared_sandbox.run(code)
    assert result.value == "'/workspace'"
    assert (shared_sandbox.workspace / "from_sandbox.txt").read_text() == "HELLO FROM THE HOST"
    outside = await shared_sandbox.run(
        "import os\nos.path.exists('/home/sandbox/.ssh') or os.path.exists('/root/.ssh')"
    )
    assert outside.value == "False"


async def test_files_copy_in_and_out_besides_the_workspace(shared_sandbox: DockerSandbox) -> None:
    await shared_sandbox.put_file("/tmp/data/in.bin", b"\x00\x01binary")
    result = await shared_sandbox.run("open('/tmp/data/in.bin', 'rb').read()")
    assert result.value == "b'\\x00\\x01binary'"
    await shared_sandbox.run("open('/tmp/out.txt', 'w').write('made inside')")
    assert await shared_sandbox.get_file("/tmp/out.txt") == b"made inside"


async def test_run_shell_runs_bash(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run_shell("echo $((6 * 7)); echo oops >&2")
    assert result.ok and result.stdout == "42\n" and result.stderr == "oops\n"
    failed = await shared_sandbox.run_shell("exit 3")
    assert failed.error is not None and failed.error.message == "exit status 3"


async def test_top_level_await_works(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run("import asyncio\nawait asyncio.sleep(0)\n'awaited'")
    assert result.value == "'awaited'"


async def test_a_cell_can_exit_without_ending_the_session(shared_sandbox: DockerSandbox) -> None:
    result = await shared_sandbox.run("import sys\nsys.exit(4)")
    assert result.error is not None and result.error.type == "SystemExit"
    assert (await shared_sandbox.run("'still here'")).value == "'still here'"
    assert os.environ.get("AUTOPILOT_SANDBOX") is None  # the marker lives only inside
    assert (await shared_sandbox.run("import os\nos.environ['AUTOPILOT_SANDBOX']")).value == "'1'"


async def test_output_between_cells_arrives_with_the_next(shared_sandbox: DockerSandbox) -> None:
    await shared_sandbox.run(
        "import subprocess\nlate = subprocess.Popen(['sh', '-c', 'sleep 0.3; echo late'])"
    )
    await asyncio.sleep(0.8)
    result = await shared_sandbox.run("late.wait()\nprint('now')")
    assert result.stdout == "late\nnow\n"
