"""Host tools called from sandboxed code through generated stubs, over the real channel."""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from autopilot.errors import PermissionDenied, ToolError
from autopilot.sandbox.base import ExecImage, ToolRequest, ToolSpec
from autopilot.sandbox.docker_sandbox import DockerSandbox
from tests.sandbox.conftest import config_for_tests, make_workspace

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

TOOLS = [
    ToolSpec("demo", "echo", "(text: str, times: int = 1, *, upper: bool = False)", "Echo text."),
    ToolSpec("demo", "fail", "(reason: str)", "Always fails."),
    ToolSpec("demo", "forbidden", "()", "Always denied."),
    ToolSpec("demo", "slow", "(seconds: float)", "Takes a while."),
    ToolSpec("screen", "shot", "(width: int = 4, height: int = 3)", "A PNG screenshot."),
]


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(buffer, "PNG")
    return buffer.getvalue()


class Recorder:
    def __init__(self) -> None:
        self.requests: list[ToolRequest] = []

    async def __call__(self, request: ToolRequest) -> object:
        self.requests.append(request)
        args = request.args
        if request.tool == "demo.echo":
            text = args["text"] * args["times"]
            return {"text": text.upper() if args["upper"] else text}
        if request.tool == "demo.fail":
            raise ToolError(f"failed because {args['reason']}")
        if request.tool == "demo.forbidden":
            raise PermissionDenied("the policy denies demo.forbidden")
        if request.tool == "demo.slow":
            await asyncio.sleep(args["seconds"])
            return "slept"
        if request.tool == "screen.shot":
            return {
                "image": ExecImage(
                    _png(args["width"], args["height"]), args["width"], args["height"]
                )
            }
        raise ToolError(f"unknown tool {request.tool}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bridged(sandbox_image: str) -> AsyncIterator[tuple[DockerSandbox, Recorder]]:
    recorder = Recorder()
    workspace = make_workspace()
    sandbox = DockerSandbox(config_for_tests(), session_id="test-tools", workspace=workspace)
    sandbox.set_tool_handler(recorder, TOOLS)
    async with sandbox:
        yield sandbox, recorder
    shutil.rmtree(workspace, ignore_errors=True)


async def test_stub_binds_arguments_by_signature(bridged: tuple[DockerSandbox, Recorder]) -> None:
    sandbox, recorder = bridged
    result = await sandbox.run("demo.echo('ab', 2, upper=True)")
    assert result.value == "{'text': 'ABAB'}"
    request = recorder.requests[-1]
    assert request.tool == "demo.echo"
    assert request.args == {"text": "ab", "times": 2, "upper": True}


async def test_stub_rejects_bad_arguments_in_the_sandbox(
    bridged: tuple[DockerSandbox, Recorder],
) -> None:
    sandbox, recorder = bridged
    before = len(recorder.requests)
    result = await sandbox.run("demo.echo()")
    assert result.error is not None and result.error.type == "TypeError"
    assert "text" in result.error.message
    assert len(recorder.requests) == before  # never reached the host


async def test_tool_error_reraises_inside(bridged: tuple[DockerSandbox, Recorder]) -> None:
    sandbox, _ = bridged
    result = await sandbox.run(
        "try:\n    demo.fail('disk full')\nexcept ToolError as exc:\n    caught = str(exc)\ncaught"
    )
    assert result.value == "'failed because disk full'"
    uncaught = await sandbox.run("demo.fail('x')")
    assert uncaught.error is not None and uncaught.error.type == "ToolError"


async def test_permission_denied_reraises_inside(bridged: tuple[DockerSandbox, Recorder]) -> None:
    sandbox, _ = bridged
    result = await sandbox.run("demo.forbidden()")
    assert result.error is not None
    assert result.error.type == "PermissionDenied"
    assert result.error.message == "the policy denies demo.forbidden"


async def test_images_come_back_as_objects_and_in_the_result(
    bridged: tuple[DockerSandbox, Recorder],
) -> None:
    sandbox, _ = bridged
    code = (
        "shot = screen.shot(width=5, height=2)['image']\n"
        "shot.save('/tmp/shot.png')\n"
        "(shot.width, shot.height, shot.png[:4], open('/tmp/shot.png', 'rb').read() == shot.png)"
    )
    result = await sandbox.run(code)
    assert result.value == "(5, 2, b'\\x89PNG', True)"
    assert len(result.images) == 1
    assert (result.images[0].width, result.images[0].height) == (5, 2)


async def test_no_tool_source_enters_the_sandbox(bridged: tuple[DockerSandbox, Recorder]) -> None:
    sandbox, _ = bridged
    result = await sandbox.run(
        "import inspect\n(demo, demo.echo.__doc__, str(inspect.signature(demo.echo)))"
    )
    assert result.value is not None
    assert "Echo text." in result.value and "upper" in result.value
    assert "Recorder" not in result.value


async def test_interrupting_a_waiting_tool_call(bridged: tuple[DockerSandbox, Recorder]) -> None:
    sandbox, _ = bridged
    result = await sandbox.run("demo.slow(30)", timeout=1.0)
    assert result.timed_out and not result.state_lost
    assert (await sandbox.run("demo.echo('ok')")).value == "{'text': 'ok'}"


async def test_redefining_tools_replaces_the_stubs(bridged: tuple[DockerSandbox, Recorder]) -> None:
    sandbox, recorder = bridged
    sandbox.set_tool_handler(recorder, [ToolSpec("other", "echo", "(text)", "")])
    try:
        result = await sandbox.run("('demo' in globals(), other.echo)")
        assert result.value is not None and result.value.startswith("(False, <function")
    finally:
        sandbox.set_tool_handler(recorder, TOOLS)
    assert (await sandbox.run("demo.echo('back')")).value == "{'text': 'back'}"


async def test_without_a_handler_calls_fail_cleanly(workspace: Path) -> None:
    sandbox = DockerSandbox(config_for_tests(), session_id="test-nohandler", workspace=workspace)
    sandbox.set_tool_handler(None, [ToolSpec("demo", "echo", "(text)", "")])
    async with sandbox:
        result = await sandbox.run("demo.echo('x')")
    assert result.error is not None and result.error.type == "ToolError"


async def test_a_call_from_a_thread_outliving_its_cell_is_answered(
    bridged: tuple[DockerSandbox, Recorder],
) -> None:
    sandbox, _ = bridged
    code = (
        "import threading, time\n"
        "late = {}\n"
        "def call_later():\n"
        "    time.sleep(0.3)\n"
        "    try:\n"
        "        demo.echo('x')\n"
        "    except ToolError as exc:\n"
        "        late['error'] = str(exc)\n"
        "threading.Thread(target=call_later).start()"
    )
    await sandbox.run(code)
    await asyncio.sleep(0.8)  # no cell runs when the thread calls
    result = await sandbox.run("late")
    assert result.value == "{'error': 'host tools can only be called while a cell runs'}"
