"""What the model is told after a cell: output, value, error and images, capped."""

from __future__ import annotations

from autopilot.agent.cells import SHELL_ERROR
from autopilot.sandbox.base import ExecResult

NOTHING_PRINTED = "(the code ran and printed nothing)"


def cap(text: str, limit: int) -> str:
    """Head and tail of ``text`` within about ``limit`` characters, saying how much was cut."""
    if limit <= 0 or len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut ...]\n{text[-tail:]}"


def without_library_frames(traceback: str) -> str:
    """The traceback with the frames of library code folded into one line.

    Small models copy what they read: pandas' internals are dozens of lines that say
    nothing the cell's own frame and the final error line do not say.
    """
    kept: list[str] = []
    folded = 0
    skipping = False
    for line in traceback.splitlines():
        if line.startswith('  File "'):
            skipping = not line.startswith('  File "<')
            if skipping:
                folded += 1
                continue
            if folded:
                kept.append(f"  [... {folded} frame{'s' if folded > 1 else ''} in library code]")
                folded = 0
        elif skipping and line.startswith(" "):
            continue
        else:
            skipping = False
            if folded:
                kept.append(f"  [... {folded} frame{'s' if folded > 1 else ''} in library code]")
                folded = 0
        kept.append(line)
    return "\n".join(kept)


def format_result(
    result: ExecResult, *, limit: int, image_notes: list[str], brief: bool = False
) -> str:
    """What the model is told. ``brief`` (the compact prompt style): library frames folded
    out of tracebacks, and a cell that printed nothing is told to print."""
    parts: list[str] = []
    if result.stdout:
        parts.append("stdout:\n" + cap(result.stdout.rstrip("\n"), limit))
    if result.stderr:
        parts.append("stderr:\n" + cap(result.stderr.rstrip("\n"), limit))
    if result.value is not None:
        # "Value: 5050" read to small models as a variable named Value; `_` really holds it.
        parts.append("Last expression (kept in _): " + cap(result.value, limit))
    if result.truncated and result.full_output_path:
        parts.append(f"(the output was cut; all of it is in {result.full_output_path})")
    parts.extend(image_notes)
    error = result.error
    if result.state_lost:
        pass  # said by the caller, with the state_lost prompt
    elif result.interrupted:
        pass  # said by the caller
    elif error is not None and error.type == SHELL_ERROR:
        parts.append(f"The command failed ({error.message}).")
    elif error is not None:
        detail = error.traceback.strip()
        if brief:
            detail = without_library_frames(detail)
        if not detail.endswith(f"{error.type}: {error.message}".strip()):
            detail = f"{detail}\n{error.type}: {error.message}".strip()
        parts.append("Error:\n" + cap(detail, limit))
    if result.timed_out:
        parts.append("The cell ran out of time and was stopped.")
    if not parts:
        # Small models copied "(the code ran and printed nothing)" as their final answer.
        parts.append("(no output: print() the values you need)" if brief else NOTHING_PRINTED)
    return "Output:\n" + "\n".join(parts)
