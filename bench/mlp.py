"""Epoch time of the reference's float32 MLP against the same loop in PyTorch (CPU).

    python bench/mlp.py                      # Fashion-MNIST + mnist-5k, 6 epochs (1 warm-up), 1 thread
    python bench/mlp.py --quick              # mnist-5k only, a smoke run of a few seconds
    python bench/mlp.py --dataset mnist --epochs 6 --threads 2 --profile

Both frameworks train 784-256-128-10 (ReLU) with softmax cross-entropy and plain SGD (lr 0.1,
batch 128) from the same initial weights, on the same batches: one index permutation per epoch,
drawn from a seeded numpy Generator, and the arrays/tensors sliced with it directly (no DataLoader).
Epoch time is the median over the epochs after the first (warm-up). Like autograd, the reference
computes no gradient for the data (``model.backward(dy, input_grad=False)``), so a step has 8
matrix products (3 forward, 3 weight gradients, 2 input gradients). The matrix-product share is the
time of those 8 products run alone, on arrays of the same shapes and layouts, divided by the
reference's epoch time (fastest epoch of each, the least disturbed by other processes).
The same 8 products are also timed with torch's BLAS: numpy's product time divided by torch's
whole epoch is the floor of the ratio, what a numpy loop with no overhead at all would reach.

Not a test: numbers depend on the machine. The last line is always
``reference/torch epoch-time ratio: X.XX`` (reference epoch time / torch epoch time; below 1 means
the reference is faster).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time

import numpy as np

SIZES = (784, 256, 128, 10)
BATCH = 128
LR = 0.1


def batches(n: int, epochs: int, seed: int):
    """One permutation of range(n) per epoch, split into index batches (shared by both frameworks)."""
    rng = np.random.default_rng(seed)
    return [np.array_split(order, range(BATCH, n, BATCH)) for order in (rng.permutation(n) for _ in range(epochs))]


# --- the reference -------------------------------------------------------------------------------

def reference_model(seed: int):
    import reference as ref

    rng = np.random.default_rng(seed)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(ref.Linear(fan_in, fan_out, rng=rng, dtype=np.float32))
        if i < len(SIZES) - 2:
            layers.append(ref.ReLU())
    model = ref.Sequential(*layers)
    return model, ref.SoftmaxCrossEntropy(), ref.SGD(model.parameters(), lr=LR)


def reference_epoch(parts, X, y, epoch_batches) -> float:
    model, loss_fn, optimizer = parts
    start = time.perf_counter()
    for idx in epoch_batches:
        loss_fn.forward(model.forward(X[idx]), y[idx])
        model.backward(loss_fn.backward(), input_grad=False)
        optimizer.step()
    return time.perf_counter() - start


def reference_accuracy(model, X, y) -> float:
    if hasattr(model, "eval"):
        model.eval()
    predicted = np.concatenate([model.forward(X[i : i + 1000]).argmax(axis=1) for i in range(0, len(X), 1000)])
    if hasattr(model, "train"):
        model.train()
    return float(np.mean(predicted == y))


def linear_weights(model):
    """[(W (out, in), b (out,)), ...] of the model's Linear layers, in order."""
    return [(layer.params["W"], layer.params["b"]) for layer in model.layers if "W" in getattr(layer, "params", {})]


def matmul_epoch(weights, X, epoch_batches, index=lambda idx: idx) -> float:
    """Time the 8 matrix products of one epoch alone (same shapes, dtypes and transposes).

    Works on numpy arrays and on torch tensors alike (``index`` turns a numpy index batch into what
    ``X[...]`` takes), so the same products can be timed with numpy's BLAS and with torch's.
    """
    start = time.perf_counter()
    for idx in epoch_batches:
        x = X[index(idx)]
        acts = [x]
        for W, _ in weights:
            acts.append(acts[-1] @ W.T)  # (B, in) @ (in, out)
        dy = acts[-1] * 0 + 1
        for i, (W, _), a in zip(range(len(weights) - 1, -1, -1), reversed(weights), reversed(acts[:-1])):
            _ = dy.T @ a  # dW: (out, B) @ (B, in)
            if i > 0:  # like the reference in training (input_grad=False), no dx for the data
                dy = dy @ W  # dx: (B, out) @ (out, in)
    return time.perf_counter() - start


# --- the same loop in PyTorch --------------------------------------------------------------------

def torch_model(weights):
    import torch

    layers = []
    for i, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(W, dtype=np.float32)))
            linear.bias.copy_(torch.from_numpy(np.array(b, dtype=np.float32)))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    return model, torch.optim.SGD(model.parameters(), lr=LR)


def torch_epoch(parts, X, y, epoch_batches) -> float:
    import torch

    model, optimizer = parts
    start = time.perf_counter()
    for idx in epoch_batches:
        idx = torch.from_numpy(idx)
        loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def torch_accuracy(model, X, y) -> float:
    import torch

    with torch.no_grad():
        return float((model(X).argmax(dim=1) == y).float().mean())


# --- driver --------------------------------------------------------------------------------------

def train_both(name: str, epochs: int, seed: int, profile: bool):
    import torch

    from reference import datasets

    X, y = datasets.load(name, "train")
    X_test, y_test = datasets.load(name, "test")
    plan = batches(len(X), epochs, seed)
    ref_parts = reference_model(seed)
    weights = [(W.copy(), b.copy()) for W, b in linear_weights(ref_parts[0])]
    if weights[0][0].dtype != np.float32:
        sys.exit(f"bench/mlp.py: reference Linear(dtype=np.float32) gave {weights[0][0].dtype} weights; "
                 "the reference must honour dtype for this benchmark.")
    torch_parts = torch_model(weights)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    torch_weights = [(layer.weight.detach(), layer.bias.detach()) for layer in torch_parts[0]
                     if isinstance(layer, torch.nn.Linear)]
    ref_times, torch_times, mm_times, torch_mm_times = [], [], [], []
    for epoch_batches in plan:
        ref_times.append(reference_epoch(ref_parts, X, y, epoch_batches))
        torch_times.append(torch_epoch(torch_parts, Xt, yt, epoch_batches))
        mm_times.append(matmul_epoch(linear_weights(ref_parts[0]), X, epoch_batches))
        torch_mm_times.append(matmul_epoch(torch_weights, Xt, epoch_batches, index=torch.from_numpy))
    report = {
        "dataset": name,
        "n_train": len(X),
        "steps": len(plan[0]),
        "ref_epoch": statistics.median(ref_times[1:] or ref_times),
        "torch_epoch": statistics.median(torch_times[1:] or torch_times),
        # the share compares the fastest epochs: least disturbed by other processes on the machine
        "matmul_share": min(mm_times[1:] or mm_times) / min(ref_times[1:] or ref_times),
        # the same products with each library's BLAS (numpy: OpenBLAS for pip wheels; torch: MKL)
        "numpy_matmul": statistics.median(mm_times[1:] or mm_times),
        "torch_matmul": statistics.median(torch_mm_times[1:] or torch_mm_times),
        "ref_acc": reference_accuracy(ref_parts[0], X_test, y_test),
        "torch_acc": torch_accuracy(torch_parts[0], torch.from_numpy(X_test), torch.from_numpy(y_test)),
    }
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(reference_epoch, ref_parts, X, y, plan[-1])
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        report["profile"] = out.getvalue()
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist", choices=("fashion-mnist", "mnist", "mnist-5k"),
                        help="the data set whose epochs are timed (mnist-5k is also trained for its accuracy)")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per framework; the first is a warm-up")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for numpy and torch alike")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="mnist-5k only, 2 epochs: a smoke run")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one reference epoch")
    args = parser.parse_args(argv)

    import torch

    try:
        import reference  # noqa: F401
        from reference import Linear, ReLU, Sequential, SGD, SoftmaxCrossEntropy  # noqa: F401
    except ImportError as exc:
        sys.exit(f"bench/mlp.py: the reference MLP pieces are missing ({exc}); finish reference/ first.")

    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        threadpool_info = threadpool_limits = None
    torch.set_num_threads(args.threads)
    limits = threadpool_limits(limits=args.threads) if threadpool_limits else None
    if threadpool_info:
        pools = ", ".join(f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info())
    else:
        pools = "threadpoolctl not installed: numpy BLAS threads not controlled (pip install threadpoolctl)"
    print(f"threads: numpy/BLAS {pools}; torch.get_num_threads()={torch.get_num_threads()}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5:
        print(f"note: load average {load:.2f} before the run: other processes share the cores, times are noisy")

    names = ["mnist-5k"] if args.quick else list(dict.fromkeys([args.dataset, "mnist-5k"]))
    epochs = 2 if args.quick else args.epochs
    from reference.datasets import DataUnavailable

    try:
        results = [train_both(n, epochs, args.seed, args.profile and i == 0) for i, n in enumerate(names)]
    except DataUnavailable as exc:
        sys.exit(f"bench/mlp.py: {exc}")
    if limits is not None:
        limits.restore_original_limits()

    print(f"MLP {'-'.join(map(str, SIZES))} ReLU, batch {BATCH}, SGD lr {LR}, float32, {epochs} epochs "
          f"(median of epochs 2..{epochs})")
    print(f"{'dataset':<14}{'train':>7}{'steps':>6}{'ref s/epoch':>13}{'torch s/epoch':>15}"
          f"{'matmul share':>14}{'ref test acc':>14}{'torch test acc':>16}")
    for r in results:
        print(f"{r['dataset']:<14}{r['n_train']:>7}{r['steps']:>6}{r['ref_epoch']:>13.3f}{r['torch_epoch']:>15.3f}"
              f"{r['matmul_share']:>14.0%}{r['ref_acc']:>14.4f}{r['torch_acc']:>16.4f}")
    if "profile" in results[0]:
        print(results[0]["profile"])
    timed = results[0]
    print(f"matrix products alone ({timed['dataset']}): numpy {timed['numpy_matmul']:.3f} s/epoch, "
          f"torch {timed['torch_matmul']:.3f} s/epoch ({timed['numpy_matmul'] / timed['torch_matmul']:.2f}x); "
          f"numpy's products alone take {timed['numpy_matmul'] / timed['torch_epoch']:.2f} of torch's whole epoch, "
          f"the lowest ratio any numpy code could reach with this BLAS")
    print(f"reference/torch epoch-time ratio: {timed['ref_epoch'] / timed['torch_epoch']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
