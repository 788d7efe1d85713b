"""The committed fixtures: reproducible from the reference, hashed, and right according to PyTorch."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

import fixtures
import reference as ref
from fixtures import generate
from conftest import torch_oracle

CASE_NAMES = sorted(generate.CASES)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures")
    return out, generate.generate(out)


def test_manifest_lists_every_case_and_the_appendix():
    files = fixtures.manifest()["files"]
    assert fixtures.manifest()["spec_version"] == "1.0"
    assert sorted(files) == sorted([f"{n}.npz" for n in CASE_NAMES] + ["appendix_a.json"])
    assert {entry["seed"] for name, entry in files.items() if name.endswith(".npz")} == \
        {seed for _, seed, _ in generate.CASES.values()}


@pytest.mark.parametrize("file", sorted(fixtures.manifest()["files"]))
def test_manifest_hash_matches_committed_file(file):
    data = (fixtures.HERE / file).read_bytes()
    assert hashlib.sha256(data).hexdigest() == fixtures.manifest()["files"][file]["sha256"]


# Regenerating must give the committed values. Bit for bit is too strict across numpy releases:
# their BLAS/LAPACK builds round a QR or a matrix product differently in the last bits (numpy 2.4.6
# against the release that wrote the files), so floats must agree to 1e-12 relative, ints exactly.
REGENERATION_RTOL, REGENERATION_ATOL = 1e-12, 1e-15


@pytest.mark.parametrize("name", CASE_NAMES)
def test_fresh_generation_equals_committed(fresh, name):
    out, manifest = fresh
    committed = fixtures.load(name)
    with np.load(out / f"{name}.npz", allow_pickle=False) as archive:
        regenerated = {k: archive[k] for k in archive.files}
    assert sorted(regenerated) == sorted(committed)
    for key, value in committed.items():
        assert value.dtype == regenerated[key].dtype and value.dtype in (np.float64, np.int64), key
        assert value.shape == regenerated[key].shape, key
        if value.dtype == np.int64:
            np.testing.assert_array_equal(regenerated[key], value, err_msg=f"{name}: {key}")
        else:
            np.testing.assert_allclose(regenerated[key], value, rtol=REGENERATION_RTOL, atol=REGENERATION_ATOL,
                                       err_msg=f"{name}: {key}")
    entry, fresh_entry = fixtures.manifest()["files"][f"{name}.npz"], manifest["files"][f"{name}.npz"]
    assert {k: v for k, v in fresh_entry.items() if k != "sha256"} == {k: v for k, v in entry.items() if k != "sha256"}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_torch_autograd_agrees_with_every_fixture(name):
    pytest.importorskip("torch")
    arrays = fixtures.load(name)
    expected = torch_oracle(name, arrays)
    assert expected, name
    for key, value in expected.items():
        np.testing.assert_allclose(arrays[key], value, rtol=1e-10, atol=1e-10, err_msg=f"{name}: {key}")


def test_fixtures_are_small():
    total = sum((fixtures.HERE / f).stat().st_size for f in fixtures.manifest()["files"])
    assert total < 2 * 1024 * 1024


def test_reference_reproduces_appendix_a_exactly():
    case = fixtures.appendix_a()
    inputs, expected = case["inputs"], case["expected"]
    model = ref.OneHiddenLayerMLP(2, 2, inputs["activation"], rng=np.random.default_rng(0))
    model.set_parameters(inputs["params"])
    x = np.array(inputs["x"])
    f = model.forward(x)
    grads = model.backward(x, inputs["y"], f)
    got = {"a1": model.a1_cache, "h1": model.h1_cache, "f": f, "L": model.loss(f, inputs["y"]), **grads}
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value), err_msg=key)


def test_loader_names_the_fix_when_a_fixture_is_missing():
    with pytest.raises(fixtures.FixtureError, match="python -m fixtures.generate"):
        fixtures.load("no-such-case")
