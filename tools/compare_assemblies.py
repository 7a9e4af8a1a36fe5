"""Compare two synthesized ``cdk.out`` directories file by file: which differ, which exist in one only.

A restructuring must leave every template, definition, diagram and staged job file byte-identical;
``--moved OLD=NEW`` maps a relative directory that intentionally moved. Exit 0 when identical, 1 when
anything differs, 2 for a bad argument.

    python -m tools.compare_assemblies OLD_CDK_OUT NEW_CDK_OUT [--moved assembly-prod/pipeline-files=pipeline-files/prod]
"""

from __future__ import annotations

import argparse
import filecmp
import sys
from pathlib import Path
from typing import Mapping, Sequence

from base.errors import ExitCode


def relative_files(*, root: Path, moved: Mapping[str, str]) -> dict[str, Path]:
    """Every file under ``root`` by its relative path, with moved directories renamed to their new place."""
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        for old, new in moved.items():
            if relative == old or relative.startswith(old.rstrip("/") + "/"):
                relative = new.rstrip("/") + relative[len(old.rstrip("/")):]
        files[relative] = path
    return files


def compare(*, old: Path, new: Path, moved: Mapping[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(only in old, only in new, differing) relative paths, each sorted."""
    before = relative_files(root=old, moved=moved)
    after = relative_files(root=new, moved={})
    only_old = sorted(set(before) - set(after))
    only_new = sorted(set(after) - set(before))
    differing = sorted(p for p in set(before) & set(after) if not filecmp.cmp(before[p], after[p], shallow=False))
    return only_old, only_new, differing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--moved", action="append", default=[], metavar="OLD=NEW", help="a relative directory that moved")
    args = parser.parse_args(argv)
    for label, directory in (("old", args.old), ("new", args.new)):
        if not directory.is_dir():
            print(f"error: {label} assembly {str(directory)!r} is not a directory: give a cdk.out", file=sys.stderr)
            return ExitCode.BAD_INPUT
    moved = {}
    for item in args.moved:
        if item.count("=") != 1:
            print(f"error: --moved {item!r}: expected OLD=NEW relative directories", file=sys.stderr)
            return ExitCode.BAD_INPUT
        old, new = item.split("=")
        moved[old] = new
    only_old, only_new, differing = compare(old=args.old, new=args.new, moved=moved)
    for label, paths in (("only in old", only_old), ("only in new", only_new), ("differ", differing)):
        for path in paths:
            print(f"{label}: {path}")
    total = len(relative_files(root=args.new, moved={}))
    print(f"{total} files compared: {len(differing)} differ, {len(only_old)} only in old, {len(only_new)} only in new")
    return ExitCode.ATTENTION if (only_old or only_new or differing) else ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
