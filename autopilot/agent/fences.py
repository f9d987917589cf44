"""An incremental Markdown code-fence parser for streamed replies.

The model's reply arrives in chunks that may split a fence anywhere (``"``"`` + ``"`py"``
+ ``"thon\\n"``). :class:`FenceParser` is fed the chunks as they come and reports each code
block the moment its closing fence line is complete, with the offset in the whole reply
where that line ends — so the agent can stop generation right there (small models
otherwise go on to invent the output). Only whole lines are interpreted; a fence is a line
of three or more backticks, indented by at most three spaces (CommonMark). A closing fence
is a line of at least as many backticks and nothing else; it must end with a newline, or
with the end of the reply (:meth:`FenceParser.finish`).
"""

from __future__ import annotations

from dataclasses import dataclass

PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "ipython", "pycon"})
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "zsh", "console", "shell-session"})
# Blocks that show data rather than ask for an action: they stay part of the text.
DISPLAY_LANGUAGES = frozenset(
    {"text", "txt", "output", "plaintext", "plain", "json", "csv", "tsv", "yaml", "yml",
     "markdown", "md", "log", "diff", "toml", "ini", "xml"}
)  # fmt: skip


@dataclass(frozen=True)
class Block:
    """A fenced block: its info-string language, its code, and where it ends in the reply."""

    language: str
    code: str
    end: int  # offset in the whole reply just after the closing fence line
    closed: bool = True


class FenceParser:
    """Feed chunks with :meth:`feed`; each call returns the blocks closed by that chunk."""

    def __init__(self) -> None:
        self._line = ""  # the current, incomplete line
        self._offset = 0  # offset in the reply where ``_line`` starts
        self._fence = 0  # backticks of the open fence; 0 when outside a block
        self._indent = 0
        self._language = ""
        self._code: list[str] = []

    @property
    def inside_block(self) -> bool:
        return self._fence > 0

    def feed(self, chunk: str) -> list[Block]:
        blocks: list[Block] = []
        text = self._line + chunk
        start = 0
        while True:
            newline = text.find("\n", start)
            if newline < 0:
                break
            line = text[start : newline + 1]
            block = self._take_line(line, self._offset + newline + 1)
            if block is not None:
                blocks.append(block)
            start = newline + 1
        self._offset += start
        self._line = text[start:]
        return blocks

    def finish(self) -> list[Block]:
        """The end of the reply: a last line without newline, and an unclosed block, count."""
        blocks: list[Block] = []
        end = self._offset + len(self._line)
        if self._fence and self._line.strip() and not self._line.strip().strip("`"):
            self._line = "`" * self._fence  # a closing fence cut short by the end of the reply
        if self._line:
            block = self._take_line(self._line, end)
            self._line = ""
            self._offset = end
            if block is not None:
                blocks.append(block)
        if self._fence:
            # An unclosed fence at the end of a reply is still code.
            blocks.append(Block(self._language, "".join(self._code), end, closed=False))
            self._fence = 0
            self._code = []
        return blocks

    def _take_line(self, line: str, end: int) -> Block | None:
        stripped = line.rstrip("\r\n")
        indent = len(stripped) - len(stripped.lstrip(" "))
        body = stripped[indent:]
        ticks = len(body) - len(body.lstrip("`"))
        if not self._fence:
            if indent <= 3 and ticks >= 3 and "`" not in body[ticks:]:
                self._fence = ticks
                self._indent = indent
                self._language = body[ticks:].strip().split(" ")[0].lower()
                self._code = []
            return None
        if indent <= 3 and ticks >= self._fence and not body[ticks:].strip():
            block = Block(self._language, "".join(self._code), end)
            self._fence = 0
            self._code = []
            return block
        self._code.append(_dedent(line, self._indent))
        return None


def _dedent(line: str, indent: int) -> str:
    """Remove up to ``indent`` leading spaces (the fence's own indentation)."""
    cut = 0
    while cut < indent and cut < len(line) and line[cut] == " ":
        cut += 1
    return line[cut:]


def classify(block: Block) -> str:
    """``python``, ``shell``, ``display`` (not an action) or ``unsupported``.

    A block without a language is Python when it compiles, else display text: small models
    often drop the tag, but a fence around plain text must not be "run".
    """
    language = block.language
    if language in PYTHON_LANGUAGES:
        return "python"
    if language in SHELL_LANGUAGES:
        return "shell"
    if language in DISPLAY_LANGUAGES:
        return "display"
    if not language:
        return "python" if _looks_like_python(block.code) else "display"
    return "unsupported"


def _looks_like_python(code: str) -> bool:
    """Compiles, and is more than a bare value (``42`` or ``done`` is shown output, not code)."""
    import ast

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(
        not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.Name))
        for node in tree.body
    )


def strip_prompts(code: str, language: str) -> str:
    """Drop ``$ `` / ``>>> `` prompts some models copy into shell and pycon blocks."""
    prefixes = ("$ ",) if language in SHELL_LANGUAGES else (">>> ", "... ")
    lines = code.splitlines(keepends=True)
    if not lines or not all(not ln.strip() or ln.startswith(prefixes) for ln in lines):
        return code
    return "".join(ln[len(prefixes[0]) :] if ln.strip() else ln for ln in lines)
