"""The code the agent itself runs in the sandbox: the prelude, shell cells, final answers.

Everything goes through ``Sandbox.run``, so it works with any backend. The prelude defines
``final_answer`` (which records the answer in the namespace) and the shell runner; it runs
when the sandbox starts and again after every restart. After a cell that mentions
``final_answer`` the agent takes the recorded answer with :data:`TAKE_FINAL_ANSWER`.
"""

from __future__ import annotations

import ast

PRELUDE = '''
def final_answer(value):
    """Finish the task: ``value`` (any object; it is shown as text) is the answer."""
    global __autopilot_final__
    __autopilot_final__ = value if isinstance(value, str) else str(value)


def __autopilot_take_final__():
    global __autopilot_final__
    value, __autopilot_final__ = __autopilot_final__, None
    return value


class ShellCommandError(Exception):
    """A shell command exited with a non-zero status."""


def __autopilot_sh__(command):
    import shutil
    import subprocess

    shell = shutil.which("bash") or "/bin/sh"
    proc = subprocess.Popen(
        [shell, "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
    )
    try:
        for line in proc.stdout:
            print(line, end="", flush=True)
        status = proc.wait()
    except KeyboardInterrupt:
        proc.kill()
        proc.wait()
        raise
    if status:
        raise ShellCommandError(f"exit status {status}")


__autopilot_final__ = None
'''

TAKE_FINAL_ANSWER = "__autopilot_take_final__()"
SHELL_ERROR = "ShellCommandError"


def shell_cell(command: str) -> str:
    """A Python cell that runs ``command`` with bash, streaming its output."""
    return f"__autopilot_sh__({command!r})"


def mentions_final_answer(code: str) -> bool:
    return "final_answer" in code


def only_final_answer(code: str) -> bool:
    """The cell does nothing but call ``final_answer(...)``."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return bool(tree.body) and all(
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "final_answer"
        for node in tree.body
    )


def decode_value(value: str | None) -> str | None:
    """The text of a value the sandbox returned as ``repr``."""
    if value is None:
        return None
    try:
        decoded = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value
    return decoded if isinstance(decoded, str) else value
