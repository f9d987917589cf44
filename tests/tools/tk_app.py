"""A tiny Tk window for the desktop tests: a button, a label and an entry.

Run as ``python tk_app.py STATE_FILE``. It writes its state — widget positions on the
screen, the click count and the entry text — to STATE_FILE as JSON whenever it changes, so
the test can aim at the widgets and verify what the desktop tools did.
"""

from __future__ import annotations

import json
import os
import sys
import tkinter as tk

state_path = sys.argv[1]
root = tk.Tk()
root.title("autopilot desktop test")
root.geometry("420x220+60+60")
clicks = tk.IntVar(value=0)
text = tk.StringVar(value="")
label = tk.Label(root, text="not clicked", bg="white", width=30, height=3)
button = tk.Button(root, text="Press me", width=20, height=2)
entry = tk.Entry(root, textvariable=text, width=30)


def box(widget: tk.Widget) -> dict:
    return {
        "x": widget.winfo_rootx(),
        "y": widget.winfo_rooty(),
        "w": widget.winfo_width(),
        "h": widget.winfo_height(),
    }


def save(*_: object) -> None:
    state = {
        "clicks": clicks.get(),
        "text": text.get(),
        "button": box(button),
        "entry": box(entry),
        "label": box(label),
    }
    tmp = state_path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(state, fh)
    os.replace(tmp, state_path)


def pressed() -> None:
    clicks.set(clicks.get() + 1)
    label.configure(text=f"clicked {clicks.get()}", bg="#d03030")
    save()


button.configure(command=pressed)
label.pack(pady=8)
button.pack(pady=4)
entry.pack(pady=4)
text.trace_add("write", save)
root.after(300, save)  # once mapped, the positions are real
root.mainloop()
