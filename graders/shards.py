"""Grading on many machines: ``--shard i/N`` picks a share of a class, ``merge`` joins the shares.

A submission belongs to shard ``shard_of(id, N)``: a hash of its id alone, so adding or removing a
student never moves anyone else. Each shard's OUT holds ``shard.json``, what it is::

    {"shard": "2/3", "settings": {"kit", "rubric", "style", "map", "timeout", ...},
     "class": [every id in the folder], "submissions": [the ids this shard holds],
     "exports": {"roster": {"path", "sha256"} | null, "assignment": str}}

``merge`` refuses shards whose settings differ (they would not give the grades of one run), that
hold a submission twice, or that leave a gap (a shard i/N not given, or a submission not finished),
with one sentence naming the shards and the submissions. It then copies each submission's folder
and writes the class files from the records, as one run writes them (``graders.grade.write_class_files``),
so they are byte-identical to a single run over the same folder.

>>> parse_shard("2/3")
(2, 3)
>>> shard_of("ada", 1)
1
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

MANIFEST = "shard.json"


class ShardError(Exception):
    """Shards that cannot be merged, or a --shard that cannot be read; one sentence for people."""


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    i, n = (int(match[1]), int(match[2])) if match else (0, 0)
    if not match or not 1 <= i <= n:
        raise ShardError(f"--shard {text!r} is not i/N with 1 <= i <= N: write, e.g., --shard 2/4 for the "
                         "second of four shards.")
    return i, n


def shard_of(sub_id: str, n: int) -> int:
    """The shard (1..n) that grades ``sub_id``: its sha256, not its place in the listing."""
    return int(hashlib.sha256(sub_id.encode()).hexdigest(), 16) % n + 1


def file_sha256(path: Path | None) -> str | None:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None


def folder_sha256(paths: list[Path]) -> str:
    """One hash over several files, by name and content (the shipped rubrics, say)."""
    digest = hashlib.sha256()
    for p in sorted(paths):
        digest.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def write_manifest(out: Path, shard: tuple[int, int], settings: dict, class_ids: list[str], held: list[str],
                   exports: dict) -> dict:
    manifest = {"shard": f"{shard[0]}/{shard[1]}", "settings": settings, "class": sorted(class_ids),
                "submissions": sorted(held), "exports": exports}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _names(ids, cap: int = 8) -> str:
    ids = sorted(ids)
    more = f" and {len(ids) - cap} more" if len(ids) > cap else ""
    return ", ".join(ids[:cap]) + more


def read_manifests(folders: list[Path]) -> list[tuple[Path, dict]]:
    found = []
    for folder in folders:
        path = Path(folder) / MANIFEST
        try:
            found.append((Path(folder), json.loads(path.read_text())))
        except (OSError, json.JSONDecodeError) as exc:
            raise ShardError(f"{path} cannot be read ({type(exc).__name__}): pass the OUT folder of a run "
                             "graded with --shard i/N.") from None
    return found


def check(manifests: list[tuple[Path, dict]]) -> list[dict]:
    """Every finished record of the shards, in id order, or ``ShardError`` naming what is wrong."""
    first_path, first = manifests[0]
    for path, m in manifests[1:]:
        for key in sorted(set(first["settings"]) | set(m["settings"])):
            if first["settings"].get(key) != m["settings"].get(key):
                raise ShardError(f"shards {first_path} and {path} were graded with a different {key} "
                                 f"({first['settings'].get(key)!r} vs {m['settings'].get(key)!r}): grade every "
                                 "shard with the same kit and options.")
        if m["class"] != first["class"]:
            differ = set(m["class"]) ^ set(first["class"])
            raise ShardError(f"shards {first_path} and {path} saw different submissions folders (they differ in "
                             f"{_names(differ)}): grade every shard from the same copy of the folder.")
    n = int(first["shard"].split("/")[1])
    by_index: dict[int, Path] = {}
    for path, m in manifests:
        i, size = (int(x) for x in m["shard"].split("/"))
        if size != n:
            raise ShardError(f"shard {path} is {m['shard']} but {first_path} is {first['shard']}: merge shards "
                             "of one split.")
        if i in by_index:
            raise ShardError(f"shards {by_index[i]} and {path} are both {m['shard']} and both hold "
                             f"{_names(m['submissions']) or 'no submission'}: pass each shard once.")
        by_index[i] = path
    owner: dict[str, Path] = {}
    for path, m in manifests:
        twice = [s for s in m["submissions"] if s in owner]
        if twice:
            raise ShardError(f"submissions {_names(twice)} are in both {owner[twice[0]]} and {path}: "
                             "pass each shard once.")
        owner.update({s: path for s in m["submissions"]})
    missing = sorted(set(range(1, n + 1)) - set(by_index))
    if missing:
        lost = [s for s in first["class"] if shard_of(s, n) in missing]
        which = ", ".join(f"{i}/{n}" for i in missing)
        raise ShardError(f"shard{'s' * (len(missing) > 1)} {which} {'are' if len(missing) > 1 else 'is'} missing "
                         f"({_names(lost) if lost else 'it holds no submission'}): grade "
                         f"{'them' if len(missing) > 1 else 'it'} with --shard and pass "
                         f"{'their' if len(missing) > 1 else 'its'} OUT folder too.")
    ungraded = sorted(set(first["class"]) - set(owner))
    if ungraded:
        raise ShardError(f"no shard holds {_names(ungraded)}: those shards were graded from another folder; "
                         "grade them again.")
    records, unfinished = [], []
    for sub_id in first["class"]:
        path = owner[sub_id] / sub_id / "record.json"
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            unfinished.append(sub_id)
    if unfinished:
        raise ShardError(f"submissions {_names(unfinished)} have no finished record.json in their shard: run that "
                         "shard's grade command again (it resumes).")
    return records


def copy_submissions(manifests: list[tuple[Path, dict]], out: Path) -> None:
    for path, m in manifests:
        for sub_id in m["submissions"]:
            if (path / sub_id).resolve() != (out / sub_id).resolve():
                shutil.copytree(path / sub_id, out / sub_id, dirs_exist_ok=True)


def _roster(manifests: list[tuple[Path, dict]], given: Path | None) -> Path | None:
    """The roster a merge writes the exports with: the one given, else the one every shard recorded."""
    if given is not None:
        return Path(given)
    recorded = {json.dumps(m["exports"].get("roster"), sort_keys=True) for _, m in manifests}
    if len(recorded) > 1:
        raise ShardError(f"shards {manifests[0][0]} and the others were graded with different rosters: pass "
                         "--roster ROSTER.csv to merge.")
    entry = manifests[0][1]["exports"].get("roster")
    if entry is None:
        return None
    path = Path(entry["path"])
    if not path.is_file() or file_sha256(path) != entry["sha256"]:
        raise ShardError(f"the roster the shards were graded with, {path}, is not on this machine or has changed "
                         "since: pass --roster ROSTER.csv to merge.")
    return path


def merge(folders: list[Path], out: Path, roster: Path | None = None, assignment: str | None = None):
    """Join shard OUT folders into ``out``: (records, summary, the roster read or None). Raises
    ``ShardError`` (or ``RosterError``) before writing anything."""
    from graders import roster as rosters
    from graders.grade import kit_version, write_class_files

    manifests = read_manifests(folders)
    records = check(manifests)
    graded_with, here = manifests[0][1]["settings"].get("kit"), kit_version()
    if graded_with != here:  # the class report is drawn here: another kit could draw it differently
        raise ShardError(f"the shards were graded with kit {graded_with} and this is kit {here}: merge them "
                         "with the kit that graded them.")
    named = {m["exports"].get("assignment") for _, m in manifests}
    if assignment is None and len(named) > 1:
        raise ShardError(f"shards name the Canvas assignment differently ({', '.join(sorted(map(str, named)))}): "
                         "pass --assignment NAME to merge.")
    assignment = assignment or named.pop() or rosters.DEFAULT_ASSIGNMENT
    roster_path = _roster(manifests, roster)
    students = rosters.read(roster_path) if roster_path else None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    copy_submissions(manifests, out)
    first = manifests[0][1]
    entry = {"path": str(roster_path.resolve()), "sha256": file_sha256(roster_path)} if roster_path else None
    write_manifest(out, (1, 1), first["settings"], first["class"], first["class"],
                   {"roster": entry, "assignment": assignment})
    return records, write_class_files(out, records, students, assignment), students
