"""A compact accessibility snapshot with stable element references, for the model.

Playwright's ``aria_snapshot(mode="ai")`` gives every node a ``[ref=eN]`` that it keeps on
the element for the life of the page (new nodes get new numbers, old ones keep theirs) and
that the ``aria-ref=eN`` selector resolves. We keep refs only where the model can act
(links, buttons, fields, clickable things), shown as ``[eN]``, and fold away unnamed
``generic`` wrappers, so the snapshot reads like AgentOccam/BrowserGym observations::

    - heading "Sign in" [level=1]
    - textbox "Email" [e6]
    - button "Continue" [e8]
"""

from __future__ import annotations

import re

INTERACTIVE_ROLES = frozenset(
    {
        "button", "link", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio",
        "switch", "slider", "spinbutton", "tab", "menuitem", "menuitemcheckbox",
        "menuitemradio", "treeitem", "option",
    }
)  # fmt: skip
DROPPED_MARKS = ("[cursor=pointer]", "[active]")
MAX_SNAPSHOT_CHARS = 12_000

_REF = re.compile(r" ?\[ref=([^\]]+)\]")
_LINE = re.compile(r"^(?P<indent> *)- (?P<body>.*)$")
_ROLE = re.compile(r"^(?P<role>[a-z]+)\b")


def compact(ai_snapshot: str, limit: int = MAX_SNAPSHOT_CHARS) -> str:
    out: list[str] = []
    folded_levels: list[int] = []  # levels of removed wrappers whose children move up
    for raw in ai_snapshot.splitlines():
        match = _LINE.match(raw)
        if not match:
            out.append(raw)
            continue
        level = len(match["indent"]) // 2
        while folded_levels and folded_levels[-1] >= level:
            folded_levels.pop()
        body = match["body"]
        clickable = "[cursor=pointer]" in body
        for mark in DROPPED_MARKS:
            body = body.replace(" " + mark, "").replace(mark, "")
        ref_match = _REF.search(body)
        body = _REF.sub("", body)
        role_match = _ROLE.match(body)
        role = role_match["role"] if role_match else ""
        if body in {"generic:", "generic", "none:", "group:"}:  # an unnamed wrapper
            folded_levels.append(level)
            continue
        if ref_match and (role in INTERACTIVE_ROLES or clickable):
            body = _insert_ref(body, ref_match[1])
        out.append("  " * (level - len(folded_levels)) + "- " + body)
    text = "\n".join(out)
    if len(text) > limit:
        text = (
            text[:limit].rsplit("\n", 1)[0] + "\n… (snapshot cut; use browser.read() for the text)"
        )
    return text


def _insert_ref(body: str, ref: str) -> str:
    """``button "Go":`` → ``button "Go" [e8]:`` (after the name and marks, before any value)."""
    match = _HEAD.match(body)
    if not match:
        return f"{body} [{ref}]"
    return f"{match['head']} [{ref}]{match['rest']}"


_HEAD = re.compile(r'^(?P<head>[a-z]+(?: "(?:[^"\\]|\\.)*")?(?: \[[^\]]*\])*)(?P<rest>.*)$', re.S)


def normalize_ref(ref: str) -> str:
    """Accept ``e12``, ``[e12]`` and ``ref=e12``."""
    ref = ref.strip().strip("[]").strip()
    if ref.startswith("ref="):
        ref = ref[4:]
    if not re.fullmatch(r"(f\d+)?e\d+", ref):
        raise ValueError(ref)
    return ref
