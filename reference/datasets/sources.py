"""Where MNIST-style files come from: local folders first, then mirrors, always checksummed.

Resolution order for each file (the first verified copy wins):

1. ``data_dir`` (the CLI's ``--data-dir``): ``DIR/<dataset>/<file>`` or ``DIR/<file>``;
2. ``$BACKPROP_KIT_DATA``, laid out the same way;
3. the user cache, ``$XDG_CACHE_HOME/backprop-kit/<dataset>/`` (default ``~/.cache/backprop-kit``);
4. a system copy, e.g. Debian's ``dataset-fashion-mnist`` in ``/usr/share/datasets/fashion-mnist/``;
5. a download from each mirror in turn into ``<first of data_dir, $BACKPROP_KIT_DATA, cache>/<dataset>/``
   (never with ``offline=True``).

A file is accepted when its bytes match the SHA-256 of the official ``.gz`` download, or when its
decompressed IDX payload matches the SHA-256 of the official payload: Debian recompresses the
archives (new gzip header, same content), so only the second sum can recognise its copies. Either
``<file>.gz`` or the gunzipped ``<file>`` may be on disk. Downloads go to a temporary file in the
target folder and are renamed into place only once verified, so an interrupted or corrupt download
never leaves a file under the real name.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference.datasets.idx import IDXFormatError, decompress, parse_idx

ENV_DATA_DIR = "BACKPROP_KIT_DATA"
MAX_DOWNLOAD_BYTES = 64 * 2**20  # the largest official archive is 26 MB; refuse runaway responses
ROLES = ("train-images", "train-labels", "test-images", "test-labels")


class DataUnavailable(Exception):
    """A data set cannot be had here. ``fix`` is the command that makes it available."""

    def __init__(self, message: str, fix: str, problems: list[str] | tuple[str, ...] = ()):
        super().__init__(message)
        self.fix = fix
        self.problems = list(problems)


class ChecksumError(ValueError):
    """A file's bytes are neither the official archive nor a recompressed copy of its payload."""


@dataclass(frozen=True)
class FileSpec:
    name: str  # the official file name, e.g. "train-images-idx3-ubyte.gz"
    gz_sha256: str  # SHA-256 of the official .gz download
    idx_sha256: str  # SHA-256 of its decompressed IDX payload
    shape: tuple  # the IDX shape the header must declare


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    files: dict  # role (ROLES) -> FileSpec
    mirrors: tuple = ()  # base URLs, each ending in "/"
    system_dirs: tuple = ()
    fix: str = ""  # the command that makes the data available, for error messages


def _idx_files(train_images, train_labels, test_images, test_labels, n_train=60000, n_test=10000):
    """Four FileSpecs from (gz_sha256, idx_sha256) pairs, in the official file names."""
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    shapes = ((n_train, 28, 28), (n_train,), (n_test, 28, 28), (n_test,))
    sums = (train_images, train_labels, test_images, test_labels)
    return {role: FileSpec(n, *s, shape) for role, n, s, shape in zip(ROLES, names, sums, shapes)}


FETCH_HINT = "python -m reference.datasets fetch {name} --data-dir DIR"

# Official checksums. MNIST: the .gz sums are the ones published with the archives (three of them
# re-computed from the genuine files in shared/data/mnist); Fashion-MNIST: the official archives'
# SHA-256 (its README publishes MD5 only: 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...), and
# payload sums that match Debian's dataset-fashion-mnist 0.0~git20200523 byte for byte.
SPECS = {
    "mnist": DatasetSpec(
        "mnist",
        _idx_files(
            ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
             "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
             "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        fix=FETCH_HINT.format(name="mnist") + " (on a machine with internet access, then pass --data-dir DIR "
        f"or set {ENV_DATA_DIR}=DIR)",
    ),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist",
        _idx_files(
            ("08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
             "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            ("b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
             "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            ("78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
             "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            ("42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
             "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ),
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
        fix="apt-get install dataset-fashion-mnist (Debian/Ubuntu), or "
        + FETCH_HINT.format(name="fashion-mnist")
        + f" (then pass --data-dir DIR or set {ENV_DATA_DIR}=DIR)",
    ),
}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "backprop-kit"


def search_dirs(spec: DatasetSpec, data_dir=None) -> list[Path]:
    """The folders searched for ``spec``'s files, in order (duplicates removed)."""
    roots = [Path(r) for r in (data_dir, os.environ.get(ENV_DATA_DIR)) if r]
    dirs = [d for root in roots for d in (root / spec.name, root)]
    dirs += [cache_root() / spec.name, *map(Path, spec.system_dirs)]
    return list(dict.fromkeys(dirs))


def download_dir(spec: DatasetSpec, data_dir=None) -> Path:
    root = data_dir or os.environ.get(ENV_DATA_DIR) or cache_root()
    return Path(root) / spec.name


def verify(raw: bytes, fs: FileSpec, source: str) -> bytes:
    """The IDX payload of ``raw`` if it is the official file (or a recompressed copy of it)."""
    if hashlib.sha256(raw).hexdigest() == fs.gz_sha256:
        return decompress(raw, source)
    payload = decompress(raw, source)
    if hashlib.sha256(payload).hexdigest() == fs.idx_sha256:
        return payload
    raise ChecksumError(f"{source} does not match the official SHA-256 of {fs.name}")


def find_local(spec: DatasetSpec, role: str, data_dir=None):
    """(path, payload, problems): the first verified local copy of ``role`` ((None, None) when there
    is none) and one line for every copy that was found but refused."""
    fs, problems = spec.files[role], []
    for folder in search_dirs(spec, data_dir):
        for path in (folder / fs.name, folder / fs.name.removesuffix(".gz")):
            if not path.is_file():
                continue
            try:
                return path, verify(path.read_bytes(), fs, str(path)), problems
            except (ChecksumError, IDXFormatError, OSError) as exc:
                problems.append(f"{path}: {exc}")
    return None, None, problems


def download(spec: DatasetSpec, role: str, target_dir: Path, *, timeout: float = 30.0):
    """Try every mirror for ``role`` in turn; the first verified file is written atomically.

    Returns (path, payload, problems), problems being one line per mirror that failed first.
    Raises DataUnavailable (listing what each mirror did) when none delivers the official bytes.
    """
    fs, problems = spec.files[role], []
    target_dir = Path(target_dir)
    for base in spec.mirrors:
        url = base + fs.name
        try:
            raw = _get(url, timeout)
            payload = verify(raw, fs, url)
        except (OSError, http.client.HTTPException, ChecksumError, IDXFormatError) as exc:
            problems.append(f"{url}: {exc}")
            continue
        return _write_atomically(target_dir / fs.name, raw), payload, problems
    raise DataUnavailable(
        f"{spec.name}: no mirror delivered a verified {fs.name}. Fix: {spec.fix}.", spec.fix, problems
    )


def _get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        declared = response.headers.get("Content-Length")
        chunks, size = [], 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            if size > MAX_DOWNLOAD_BYTES:
                raise OSError(f"response is larger than {MAX_DOWNLOAD_BYTES} bytes")
            chunks.append(chunk)
    if declared is not None and size != int(declared):
        raise OSError(f"connection closed after {size} of {declared} bytes")
    return b"".join(chunks)


def _write_atomically(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def get_payload(spec: DatasetSpec, role: str, *, data_dir=None, offline=False) -> bytes:
    """The verified IDX payload of one file: a local copy, else (unless offline) a download."""
    path, payload, problems = find_local(spec, role, data_dir)
    if payload is not None:
        return payload
    fs = spec.files[role]
    if offline or not spec.mirrors:
        where = ", ".join(map(str, search_dirs(spec, data_dir)))
        raise DataUnavailable(
            f"{spec.name}: no verified {fs.name} in {where} and downloading is off. Fix: {spec.fix}.",
            spec.fix,
            problems,
        )
    try:
        return download(spec, role, download_dir(spec, data_dir))[1]
    except DataUnavailable as exc:
        exc.problems[:0] = problems
        raise


def load_split(spec: DatasetSpec, split: str, *, data_dir=None, offline=False):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) of ``split`` ("train" or "test")."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    arrays = []
    for kind in ("images", "labels"):
        fs = spec.files[f"{split}-{kind}"]
        payload = get_payload(spec, f"{split}-{kind}", data_dir=data_dir, offline=offline)
        arrays.append(parse_idx(payload, fs.name, expect_shape=fs.shape, expect_dtype=np.uint8))
    images, labels = arrays
    if len(images) != len(labels):
        raise IDXFormatError(f"{spec.name} {split}: {len(images)} images but {len(labels)} labels.")
    if labels.size and labels.max() > 9:
        raise IDXFormatError(f"{spec.name} {split}: label {labels.max()} is not a digit class 0-9.")
    return images, labels
