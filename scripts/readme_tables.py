"""Fill the README's result tables from benchmarks/results/, so that every table it shows is a file's.

A block ``<!-- results: NAME.md [K,...] -->`` ... ``<!-- end results -->`` in README.md holds the markdown
tables of ``benchmarks/results/NAME.md`` (all of them, or the K-th ones, counted from 1), each with the
line of text just above it when that line is a caption. ``--check`` exits 1 when a block differs from what
the files give (tests/test_readme.py runs it); without it the README is rewritten in place.

    python scripts/readme_tables.py [--check]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BLOCK = re.compile(r"<!-- results: (?P<name>[\w.-]+\.md)(?: (?P<pick>[\d,]+))? -->\n(?:.*?<!-- end results -->\n)?",
                   re.S)


def tables(text: str) -> list[str]:
    """The markdown tables of ``text``, in order, each a block of consecutive lines starting with '|'."""
    found, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append("\n".join(current))
            current = []
    return found


def render(name: str, pick: str | None) -> str:
    """The block's body: the chosen tables of ``benchmarks/results/name``."""
    all_tables = tables((RESULTS / name).read_text())
    chosen = all_tables if not pick else [all_tables[int(k) - 1] for k in pick.split(",")]
    return "\n\n".join(chosen)


def filled(readme: str) -> str:
    """The README with every results block rendered from the files."""
    def block(match: re.Match) -> str:
        pick = match.group("pick")
        head = f"<!-- results: {match.group('name')}{' ' + pick if pick else ''} -->"
        return f"{head}\n{render(match.group('name'), pick)}\n<!-- end results -->\n"

    return BLOCK.sub(block, readme)


def main() -> int:
    path = ROOT / "README.md"
    text = path.read_text()
    new = filled(text)
    if "--check" in sys.argv:
        if new != text:
            print("README.md: a results table differs from benchmarks/results/; run python scripts/readme_tables.py")
            return 1
        return 0
    path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
