"""Writing into a folder that sandboxed code also writes to, without following its links.

The workspace is bind-mounted into the sandbox, so model-written code can plant a symbolic
link (``out.txt -> ~/.bashrc``) or a FIFO there. Anything on the host that writes a file
into the workspace (saved cell output, ``/export``) goes through :func:`open_below`.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO


def open_below(root: Path, path: Path) -> IO[str]:
    """Open ``path`` (inside ``root``) for writing, creating its folders, without following
    a symbolic link anywhere below ``root``: the sandboxed code owns the workspace and could
    plant one that points at a host file (~/.bashrc). Folder by folder through descriptors,
    so nothing can be swapped in between; a FIFO or any other non-file is refused at once.
    """
    parts = path.relative_to(root).parts
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=directory)
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
            os.close(directory)
            directory = inner
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK
        fd = os.open(parts[-1], flags, 0o644, dir_fd=directory)
    finally:
        os.close(directory)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(0, "not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w", encoding="utf-8", errors="replace")
