"""Command line: ``python -m reference.datasets info [NAME...]`` and ``fetch NAME [--data-dir DIR]``.

``info`` says, for each data set, whether it can be loaded without downloading and from where
(exit status 1 when one cannot). ``fetch`` downloads what is missing into ``DIR/<name>/`` (default:
``$BACKPROP_KIT_DATA``, else the user cache), verifying every file against its official SHA-256.
"""
from __future__ import annotations

import argparse
import sys

from reference import datasets
from reference.datasets.sources import DataUnavailable, download, download_dir, find_local


def info(names, data_dir) -> int:
    status = 0
    for name in names:
        report = datasets.available(name, data_dir=data_dir)
        print(f"{name}: {'available' if report else 'NOT available without downloading'}")
        for part, where in report.sources.items():
            print(f"    {part}: {where or 'not found'}")
        for line in report.problems:
            print(f"    refused {line}")
        if not report:
            print(f"    fix: {report.fix}")
            status = 1
    return status


def fetch(name, split, data_dir) -> int:
    if name in ("xor", "spiral", "mnist-5k"):
        report = datasets.available(name)
        print(f"{name}: {'available' if report else report.fix} (nothing to download)")
        return 0 if report else 1
    spec = datasets.SPECS[name]
    for role in spec.files:
        if split and not role.startswith(split + "-"):
            continue
        path, _, refused = find_local(spec, role, data_dir)
        for line in refused:
            print(f"refused {line}", file=sys.stderr)
        if path is None:
            try:
                path, _, failures = download(spec, role, download_dir(spec, data_dir))
            except DataUnavailable as exc:
                print(exc, *(f"    {p}" for p in exc.problems), sep="\n", file=sys.stderr)
                return 1
            for line in failures:
                print(f"mirror failed: {line}", file=sys.stderr)
            print(f"downloaded {spec.files[role].name} -> {path}")
        else:
            print(f"ok {spec.files[role].name} ({path})")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.datasets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="say which data sets can be loaded, and from where")
    p_info.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(datasets.NAMES)} (default: all)")
    p_info.add_argument("--data-dir", help="a folder holding the IDX files (or <name>/ subfolders)")
    p_fetch = sub.add_parser("fetch", help="download and verify a data set's missing files")
    p_fetch.add_argument("name", choices=datasets.NAMES)
    p_fetch.add_argument("--split", choices=("train", "test"), help="only this split's files")
    p_fetch.add_argument("--data-dir", help="download into DIR/<name>/ (default: $BACKPROP_KIT_DATA or the cache)")
    args = parser.parse_args(argv)
    if args.command == "info":
        unknown = [n for n in args.names if n not in datasets.NAMES]
        if unknown:
            parser.error(f"unknown data set {unknown[0]!r}; choose from {', '.join(datasets.NAMES)}")
        return info(args.names or datasets.NAMES, args.data_dir)
    return fetch(args.name, args.split, args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
