"""The sandbox runner: one persistent Python namespace behind a framed channel.

Standard library only: this file is sent into the container at start (see ``BOOTSTRAP``)
and also runs as a host subprocess for the local backend. It must work on Python 3.11+.

The channel is the process's original stdin/stdout. At start the runner moves both to
private, close-on-exec descriptors and points fd 0 at /dev/null and fd 1/2 at pipes that a
pump thread reads; whatever user code (or a subprocess) writes is forwarded as framed
``out`` messages, so nothing it prints can corrupt the channel.

A frame is ``>II`` (header length, payload length), a JSON header, then raw payload bytes.

host → runner: ``exec`` {id, name} + code, ``interrupt`` {id}, ``tool_result`` {call_id, ok,
result | error{kind, message}}, ``define_tools`` {tools}, ``ping``, ``shutdown``.
runner → host: ``ready``, ``out`` {id, stream} + bytes, ``image`` {id, width, height} + PNG,
``tool_call`` {id, call_id, tool, args}, ``result`` {id, value, error, interrupted}, ``pong``.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import fcntl
import io
import itertools
import json
import linecache
import os
import queue
import select
import signal
import struct
import sys
import threading
import traceback
import types

FRAME = struct.Struct(">II")
RUNNER_FILENAME = "autopilot-runner"
TOOLS_FILENAME = "<autopilot-tools>"
PRIVATE_FD_MIN = 600  # park the channel high, out of the way of user fd juggling
READ_SIZE = 1 << 20
MAX_VALUE_CHARS = 1_000_000
MPL_CACHE_SEED = "/opt/autopilot/mplcache"

# The host sends this as ``python3 -c BOOTSTRAP`` and then writes the runner source,
# length-prefixed, to stdin: a runner change never needs an image rebuild.
BOOTSTRAP = (
    "import os,sys,types\n"
    "def r(n):\n"
    " b=b''\n"
    " while len(b)<n:\n"
    "  c=os.read(0,n-len(b))\n"
    "  if not c: sys.exit(3)\n"
    "  b+=c\n"
    " return b\n"
    "n=int.from_bytes(r(4),'big')\n"
    "m=types.ModuleType('_autopilot_runner');sys.modules[m.__name__]=m\n"
    f"exec(compile(r(n),{RUNNER_FILENAME!r},'exec'),m.__dict__)\n"
    "m.main()\n"
)


def _private_fd(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, PRIVATE_FD_MIN)


class Channel:
    """Framed messages over two private descriptors; ``send`` is thread-safe."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.write_lock = threading.Lock()
        self._buffer = bytearray()

    def send(self, header: dict, payload: bytes = b"") -> None:
        data = json.dumps(header, separators=(",", ":"), default=str).encode()
        frame = memoryview(FRAME.pack(len(data), len(payload)) + data + payload)
        with self.write_lock:
            while frame:
                written = os.write(self.fd_out, frame)
                frame = frame[written:]

    def _read_exact(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            chunk = os.read(self.fd_in, max(READ_SIZE, size - len(self._buffer)))
            if not chunk:
                return None
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def recv(self) -> tuple[dict, bytes] | None:
        head = self._read_exact(FRAME.size)
        if head is None:
            return None
        header_len, payload_len = FRAME.unpack(head)
        body = self._read_exact(header_len + payload_len)
        if body is None:
            return None
        return json.loads(body[:header_len]), body[header_len:]


class OutputPump:
    """Owns fd 1/2: pipes read by a thread and forwarded as ``out`` frames, in order."""

    STREAMS = ("stdout", "stderr")

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.lock = threading.RLock()
        self.read_fds: dict[str, int] = {}
        self.write_fds: dict[str, int] = {}
        for target, stream in ((1, "stdout"), (2, "stderr")):
            read_fd, write_fd = os.pipe()
            with contextlib.suppress(OSError):  # a bigger pipe means fewer, larger frames
                fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, READ_SIZE)
            os.set_blocking(read_fd, False)
            self.read_fds[stream] = _private_fd(read_fd)
            self.write_fds[stream] = _private_fd(write_fd)
            os.close(read_fd)
            os.close(write_fd)
            os.dup2(self.write_fds[stream], target)
        self.last_stream = "stdout"
        threading.Thread(target=self._loop, name="autopilot-output", daemon=True).start()

    def repair(self) -> None:
        """Point fd 1/2 back at our pipes if user code closed or replaced them."""
        for target, stream in ((1, "stdout"), (2, "stderr")):
            try:
                same = os.path.sameopenfile(target, self.write_fds[stream])
            except OSError:
                same = False
            if not same:
                os.dup2(self.write_fds[stream], target)

    def _loop(self) -> None:
        poller = select.poll()
        streams = {}
        for stream, fd in self.read_fds.items():
            poller.register(fd, select.POLLIN)
            streams[fd] = stream
        while True:
            for fd, _event in poller.poll():
                with self.lock:
                    self._drain(streams[fd])

    def _drain(self, stream: str) -> None:
        # Called with self.lock held: reading and sending happen as one step, so chunks
        # leave in the order they were read.
        fd = self.read_fds[stream]
        while True:
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                return
            if not data:
                return
            self.runner.send_output(stream, data)

    def drain_all(self) -> None:
        with self.lock:
            for stream in self.STREAMS:
                self._drain(stream)

    def switch_to(self, stream: str) -> None:
        """Before Python writes to ``stream``, forward what the other stream already holds."""
        if stream != self.last_stream:
            with self.lock:
                self._drain(self.last_stream)
                self.last_stream = stream


class _FdWriter(io.RawIOBase):
    """``sys.stdout``/``sys.stderr`` underneath: writes to fd 1/2, keeping stream order."""

    def __init__(self, pump: OutputPump, stream: str, fd: int) -> None:
        self.pump = pump
        self.stream = stream
        self.fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def write(self, data) -> int:  # type: ignore[override]
        with self.pump.runner.shielded():
            self.pump.switch_to(self.stream)
        view = memoryview(data)
        total = len(view)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        return total


def _make_text_stream(pump: OutputPump, stream: str, fd: int) -> io.TextIOWrapper:
    raw = _FdWriter(pump, stream, fd)
    buffered = io.BufferedWriter(raw, buffer_size=1 << 16)
    return io.TextIOWrapper(
        buffered, encoding="utf-8", errors="backslashreplace", line_buffering=True
    )


class ToolError(Exception):
    """A host tool failed."""


class PermissionDenied(Exception):
    """The policy (or the person) refused a host tool call."""


class ToolImage:
    """A PNG image a host tool returned: ``.png`` bytes, ``.save(path)``, shown in results."""

    def __init__(self, png: bytes) -> None:
        self.png = png
        self.width, self.height = _png_size(png)

    def save(self, path: str) -> str:
        with open(path, "wb") as fh:
            fh.write(self.png)
        return path

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return f"<image {self.width}x{self.height} PNG, {len(self.png)} bytes>"


class ToolGroup:
    """A namespace object holding one group's tool stubs (``web.search`` ...)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        tools = sorted(k for k in vars(self) if not k.startswith("_"))
        return f"<tools {self._name}: {', '.join(tools)}>"


def _png_size(png: bytes) -> tuple[int, int]:
    if len(png) >= 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", png[16:24])
    return 0, 0


def _decode_images(value):
    if isinstance(value, dict):
        if set(value) == {"__image__"}:
            return ToolImage(base64.b64decode(value["__image__"]))
        return {k: _decode_images(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_images(v) for v in value]
    return value


def _json_default(value):
    if isinstance(value, ToolImage):
        return {"__image__": base64.b64encode(value.png).decode()}
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


class Runner:
    """Runs cells in one namespace; the main thread executes, a thread reads the channel."""

    def __init__(self) -> None:
        proto_in = _private_fd(0)
        proto_out = _private_fd(1)
        self.diag_fd = _private_fd(2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        self.channel = Channel(proto_in, proto_out)
        self.main_ident = threading.get_ident()
        self.cell_id: int | None = None
        self.in_user_code = False
        self._shield_depth = 0
        self._interrupt_pending = False
        self._state_lock = threading.Lock()
        self.commands: queue.Queue = queue.Queue()
        self.tool_replies: dict[str, queue.Queue] = {}
        self._tool_counter = itertools.count(1)
        self._tool_groups: dict[str, ToolGroup] = {}
        self._user_site_mtime: float | None = None
        self.pump = OutputPump(self)
        self.module = types.ModuleType("__main__")
        self.namespace = self.module.__dict__
        self.namespace["__builtins__"] = builtins
        self.namespace["ToolError"] = ToolError
        self.namespace["PermissionDenied"] = PermissionDenied
        sys.modules["__main__"] = self.module
        self.install_streams()
        sys.meta_path.insert(
            0,
            _PatchAfterImport(
                {"matplotlib.pyplot": self._patch_pyplot, "PIL.ImageShow": self._patch_pil}
            ),
        )
        signal.signal(signal.SIGINT, self._on_sigint)

    # --- output -------------------------------------------------------------------------

    def install_streams(self) -> None:
        self.pump.repair()
        for name, fd in (("stdout", 1), ("stderr", 2)):
            current = getattr(sys, name)
            if getattr(current, "_autopilot", False) and not current.closed:
                continue
            stream = _make_text_stream(self.pump, name, fd)
            stream._autopilot = True  # type: ignore[attr-defined]
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
        try:
            stdin_ok = not sys.stdin.closed and sys.stdin.fileno() == 0
        except (AttributeError, ValueError, OSError):  # None, or a StringIO without a fileno
            stdin_ok = False
        if not stdin_ok:
            sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - /dev/null

    def send_output(self, stream: str, data: bytes) -> None:
        self.send({"type": "out", "id": self.cell_id, "stream": stream}, data)

    def send(self, header: dict, payload: bytes = b"") -> None:
        with self.shielded():
            self.channel.send(header, payload)

    def flush_streams(self) -> None:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()

    # --- interrupts ---------------------------------------------------------------------

    class _Shield:
        def __init__(self, runner: Runner) -> None:
            self.runner = runner

        def __enter__(self) -> None:
            if threading.get_ident() == self.runner.main_ident:
                self.runner._shield_depth += 1

        def __exit__(self, *exc_info) -> None:
            runner = self.runner
            if threading.get_ident() != runner.main_ident:
                return
            runner._shield_depth -= 1
            if runner._shield_depth == 0 and runner._interrupt_pending and runner.in_user_code:
                runner._interrupt_pending = False
                raise KeyboardInterrupt

    def shielded(self) -> Runner._Shield:
        """While shielded, an interrupt is held back so a frame is never half-written."""
        return Runner._Shield(self)

    def _on_sigint(self, signum, frame) -> None:
        if not self.in_user_code:
            return
        if self._shield_depth > 0:
            self._interrupt_pending = True
            return
        raise KeyboardInterrupt

    # --- the channel reader -------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            message = self.channel.recv()
            if message is None:
                # The host went away: finish what was asked, but never outlive it for long.
                self.commands.put(({"type": "shutdown"}, b""))
                threading.Timer(2.0, os._exit, (0,)).start()
                return
            header, payload = message
            kind = header.get("type")
            if kind == "interrupt":
                with self._state_lock:
                    if self.cell_id is not None and header.get("id") in (None, self.cell_id):
                        signal.pthread_kill(self.main_ident, signal.SIGINT)
            elif kind == "tool_result":
                slot = self.tool_replies.get(header.get("call_id", ""))
                if slot is not None:
                    with contextlib.suppress(queue.Full):  # never block the reader
                        slot.put_nowait(header)
            elif kind == "ping":
                self.send({"type": "pong", "id": header.get("id")})
            elif kind == "shutdown":
                os._exit(0)
            else:
                self.commands.put((header, payload))

    # --- tools --------------------------------------------------------------------------

    def call_tool(self, tool: str, args: dict):
        call_id = f"{self.cell_id}-{next(self._tool_counter)}"  # next() is thread-safe
        try:
            encoded = json.loads(json.dumps(args, default=_json_default))
        except (TypeError, ValueError) as exc:
            raise ToolError(f"{tool}: arguments are not JSON-serialisable ({exc})") from None
        slot: queue.Queue = queue.Queue(maxsize=1)
        self.tool_replies[call_id] = slot
        try:
            self.send(
                {
                    "type": "tool_call",
                    "id": self.cell_id,
                    "call_id": call_id,
                    "tool": tool,
                    "args": encoded,
                }
            )
            reply = slot.get()
        finally:
            self.tool_replies.pop(call_id, None)
        if reply.get("ok"):
            return _decode_images(reply.get("result"))
        error = reply.get("error") or {}
        message = str(error.get("message") or "the tool failed")
        if error.get("kind") == "PermissionDenied":
            raise PermissionDenied(message)
        raise ToolError(message)

    def define_tools(self, tools: list[dict]) -> None:
        import inspect

        for name, group in self._tool_groups.items():
            if self.namespace.get(name) is group:
                del self.namespace[name]
        self._tool_groups = {}
        for spec in tools:
            group_name = spec["group"]
            group = self._tool_groups.get(group_name)
            if group is None:
                group = self._tool_groups[group_name] = ToolGroup(group_name)
                self.namespace[group_name] = group
            setattr(group, spec["name"], self._make_stub(spec, inspect))

    def _make_stub(self, spec: dict, inspect):
        name = spec["name"]
        signature_text = spec.get("signature") or "(*args, **kwargs)"
        full_name = f"{spec['group']}.{name}"
        scope: dict = {}
        source = f"from __future__ import annotations\ndef {name}{signature_text}:\n    pass\n"
        exec(compile(source, TOOLS_FILENAME, "exec"), scope)
        signature = inspect.signature(scope[name])
        runner = self

        def stub(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{full_name}{signature_text}: {exc}") from None
            bound.apply_defaults()
            return runner.call_tool(full_name, dict(bound.arguments))

        stub.__name__ = name
        stub.__qualname__ = full_name
        stub.__doc__ = spec.get("doc") or None
        stub.__signature__ = signature  # type: ignore[attr-defined]
        return stub

    # --- cells --------------------------------------------------------------------------

    def serve(self) -> None:
        threading.Thread(target=self._read_loop, name="autopilot-channel", daemon=True).start()
        self.send({"type": "ready", "pid": os.getpid(), "python": sys.version.split()[0]})
        while True:
            header, payload = self.commands.get()
            kind = header.get("type")
            if kind == "exec":
                self.run_cell(int(header["id"]), str(header.get("name") or header["id"]), payload)
            elif kind == "shutdown":
                self.flush_streams()
                self.pump.drain_all()
                os._exit(0)
            elif kind == "define_tools":
                try:
                    self.define_tools(header.get("tools") or [])
                except Exception as exc:
                    os.write(self.diag_fd, f"define_tools failed: {exc!r}\n".encode())

    def run_cell(self, cell_id: int, name: str, payload: bytes) -> None:
        code = payload.decode("utf-8", errors="replace")
        filename = f"<cell {name}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        self.install_streams()
        self._refresh_user_site()
        with self._state_lock:
            self.cell_id = cell_id
        value_text = None
        error = None
        interrupted = False
        try:
            value = self._execute(code, filename)
            if value is not None:
                self.namespace["_"] = value
                value_text = self._display(value)
        except BaseException as exc:  # everything user code raises is reported, not fatal
            interrupted = isinstance(exc, KeyboardInterrupt)
            error = self._describe(exc)
        finally:
            self.in_user_code = False
            self._interrupt_pending = False
        try:
            self._emit_figures()
        except BaseException as exc:
            error = error or self._describe(exc)
        self.flush_streams()
        with self.pump.lock:
            self.pump.drain_all()
            with self._state_lock:
                self.cell_id = None
            self.send(
                {
                    "type": "result",
                    "id": cell_id,
                    "value": value_text,
                    "error": error,
                    "interrupted": interrupted,
                }
            )

    def _execute(self, code: str, filename: str):
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        # dont_inherit: the runner's own ``from __future__`` imports must not leak into cells.
        tree = compile(code, filename, "exec", ast.PyCF_ONLY_AST | flags, dont_inherit=True)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        body = compile(tree, filename, "exec", flags, dont_inherit=True)
        tail = compile(last, filename, "eval", flags, dont_inherit=True) if last else None
        self.in_user_code = True
        self._await_if_needed(eval(body, self.namespace))
        if tail is None:
            return None
        return self._await_if_needed(eval(tail, self.namespace))

    @staticmethod
    def _await_if_needed(value):
        if type(value).__name__ == "coroutine" and hasattr(value, "send"):
            import asyncio

            return asyncio.run(value)
        return value

    def _display(self, value) -> str | None:
        png = None
        repr_png = getattr(value, "_repr_png_", None)
        if callable(repr_png) and not isinstance(value, type):
            try:
                png = repr_png()
            except Exception:
                png = None
        elif type(value).__name__ == "Figure" and type(value).__module__.startswith("matplotlib"):
            buffer = io.BytesIO()
            value.savefig(buffer, format="png", bbox_inches="tight")
            png = buffer.getvalue()
        if isinstance(png, bytes):
            self._send_image(png)
        text = repr(value)
        if len(text) > MAX_VALUE_CHARS:
            cut = len(text) - MAX_VALUE_CHARS
            half = MAX_VALUE_CHARS // 2
            text = f"{text[:half]}\n... [{cut} characters of the value cut] ...\n{text[-half:]}"
        return text

    def _describe(self, exc: BaseException) -> dict:
        if isinstance(exc, SyntaxError):
            lines = traceback.format_exception_only(type(exc), exc)
        else:
            described = traceback.TracebackException(type(exc), exc, exc.__traceback__)
            _hide_runner_frames(described, set())
            lines = list(described.format())
        message = str(exc) if not isinstance(exc, SyntaxError) else (exc.msg or str(exc))
        return {"type": type(exc).__name__, "message": message, "traceback": "".join(lines)}

    def _send_image(self, png: bytes) -> None:
        width, height = _png_size(png)
        self.send({"type": "image", "id": self.cell_id, "width": width, "height": height}, png)

    # --- matplotlib and pip -------------------------------------------------------------

    def _emit_figures(self) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        for number in pyplot.get_fignums():
            figure = pyplot.figure(number)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", bbox_inches="tight")
            self._send_image(buffer.getvalue())
        pyplot.close("all")

    def _patch_pyplot(self, pyplot) -> None:
        """``plt.show()`` sends the open figures as images (Agg cannot show them)."""
        if getattr(pyplot.show, "_autopilot", False):
            return

        def show(*args, **kwargs) -> None:
            self._emit_figures()

        show._autopilot = True  # type: ignore[attr-defined]
        pyplot.show = show

    def _patch_pil(self, image_show) -> None:
        """``image.show()`` sends the image as PNG instead of looking for a desktop viewer."""
        runner = self

        class SandboxViewer(image_show.Viewer):
            def show(self, image, **options) -> int:
                buffer = io.BytesIO()
                image.save(buffer, format="PNG")
                runner._send_image(buffer.getvalue())
                return 1

        image_show.register(SandboxViewer, order=-1)

    def _refresh_user_site(self) -> None:
        import site

        try:
            user_site = site.getusersitepackages()
            mtime = os.stat(user_site).st_mtime
        except (OSError, AttributeError):
            return
        if user_site not in sys.path:
            site.addsitedir(user_site)
        if mtime != self._user_site_mtime:
            self._user_site_mtime = mtime
            import importlib

            importlib.invalidate_caches()


class _PatchAfterImport:
    """A meta path finder that patches a few modules as soon as they are first imported."""

    def __init__(self, patches: dict) -> None:
        self.patches = patches
        self._finding = threading.local()

    def find_spec(self, fullname, path=None, target=None):
        patch = self.patches.get(fullname)
        if patch is None or getattr(self._finding, "active", False):
            return None
        import importlib.util

        self._finding.active = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding.active = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader, patch)
        return spec


class _PatchingLoader:
    def __init__(self, loader, patch) -> None:
        self._loader = loader
        self._patch = patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        with contextlib.suppress(Exception):  # a failed patch must not break the import
            self._patch(module)

    def __getattr__(self, name: str):
        return getattr(self._loader, name)


def _hide_runner_frames(described: traceback.TracebackException, seen: set) -> None:
    """Tracebacks show the user's frames only: the runner's own are noise to the model."""
    if id(described) in seen:
        return
    seen.add(id(described))
    described.stack = traceback.StackSummary.from_list(
        [frame for frame in described.stack if frame.filename != RUNNER_FILENAME]
    )
    for chained in (described.__cause__, described.__context__):
        if chained is not None:
            _hide_runner_frames(chained, seen)


def _seed_matplotlib_cache() -> None:
    home = os.environ.get("HOME", "")
    target = os.path.join(home, ".cache", "matplotlib")
    if home and os.path.isdir(MPL_CACHE_SEED) and not os.path.exists(target):
        import shutil

        with contextlib.suppress(OSError):
            shutil.copytree(MPL_CACHE_SEED, target)


def main() -> None:
    _seed_matplotlib_cache()
    Runner().serve()
