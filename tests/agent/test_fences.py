from __future__ import annotations

import pytest

from autopilot.agent.fences import Block, FenceParser, classify, strip_prompts

REPLY = "Let me look.\n```python\nimport os\nprint(os.listdir('.'))\n```\nThe output will be ..."


def parse(chunks: list[str]) -> tuple[list[Block], list[Block]]:
    parser = FenceParser()
    during: list[Block] = []
    for chunk in chunks:
        during.extend(parser.feed(chunk))
    return during, parser.finish()


def test_whole_reply() -> None:
    during, after = parse([REPLY])
    assert after == []
    assert during == [
        Block("python", "import os\nprint(os.listdir('.'))\n", REPLY.index("The output"))
    ]


@pytest.mark.parametrize("cut", range(len(REPLY) + 1))
def test_every_split_point_gives_the_same_block(cut: int) -> None:
    during, after = parse([REPLY[:cut], REPLY[cut:]])
    assert during == parse([REPLY])[0]
    assert after == []


def test_every_pair_of_split_points_around_the_fences() -> None:
    expected = parse([REPLY])[0]
    fence_zone = range(REPLY.index("```") - 1, REPLY.index("The output"))
    for i in fence_zone:
        for j in range(i, len(REPLY) + 1):
            during, _ = parse([REPLY[:i], REPLY[i:j], REPLY[j:]])
            assert during == expected, (i, j)


def test_closing_fence_needs_its_newline_until_the_reply_ends() -> None:
    parser = FenceParser()
    assert parser.feed("```python\nx = 1\n```") == []
    assert parser.inside_block
    assert parser.feed("\n") == [Block("python", "x = 1\n", 20)]
    parser = FenceParser()
    parser.feed("```python\nx = 1\n```")
    assert parser.finish() == [Block("python", "x = 1\n", 19)]


def test_unclosed_fence_at_the_end_is_still_code() -> None:
    during, after = parse(["```python\nprint(1)\nprint(2)"])
    assert during == []
    assert after == [Block("python", "print(1)\nprint(2)", 27, closed=False)]


def test_closing_fence_cut_short_by_the_end_of_the_reply() -> None:
    _, after = parse(["```python\nprint(1)\n``"])
    assert [b.code for b in after] == ["print(1)\n"]


def test_several_blocks_and_longer_fences() -> None:
    text = "a\n```py\nx = 1\n```\nb\n````bash\necho ```\n```\nls\n````\n"
    during, _ = parse([text])
    assert [(b.language, b.code) for b in during] == [
        ("py", "x = 1\n"),
        ("bash", "echo ```\n```\nls\n"),
    ]


def test_indented_fence_is_dedented_and_inline_backticks_are_text() -> None:
    during, _ = parse(["1. step\n  ```python\n  x = 1\n    y = 2\n  ```\nuse ```x``` inline\n"])
    assert [b.code for b in during] == ["x = 1\n  y = 2\n"]


@pytest.mark.parametrize(
    ("language", "code", "kind"),
    [
        ("python", "x = 1", "python"),
        ("Python3", "x = 1", "python"),
        ("bash", "ls", "shell"),
        ("sh", "ls", "shell"),
        ("json", '{"a": 1}', "display"),
        ("text", "hello", "display"),
        ("javascript", "console.log(1)", "unsupported"),
        ("", "x = compute()\nprint(x)", "python"),
        ("", "42", "display"),
        ("", "The result is 42.", "display"),
    ],
)
def test_classify(language: str, code: str, kind: str) -> None:
    parser = FenceParser()
    blocks = parser.feed(f"```{language}\n{code}\n```\n")
    assert classify(blocks[0]) == kind


def test_strip_prompts() -> None:
    assert strip_prompts("$ ls\n$ pwd\n", "bash") == "ls\npwd\n"
    assert strip_prompts(">>> x = 1\n>>> x\n", "python") == "x = 1\nx\n"
    assert strip_prompts("echo $ HOME\n", "bash") == "echo $ HOME\n"
