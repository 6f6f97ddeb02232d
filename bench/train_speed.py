"""Training speed: digitflow's numpy trainer against PyTorch on CPU, same work, one script.

Both train the same architecture with the same optimiser, learning rate, batch size and number
of epochs (by default those of ``TrainConfig``, i.e. of params.yaml's defaults) on the same
prepared arrays (shuffled each epoch, no augmentation, no validation pass), with the same
number of threads. Prints the seconds of each, the ratio, and the
achieved GFLOP/s against a plain numpy float32 sgemm of this machine (a square 2048 product and
the first layer's own (batch, 784) @ (784, hidden) shape).

Runs alternate (digitflow, torch, digitflow, torch, ...) and the fastest of each is kept, so a
burst of load from another process hits both sides alike; the load average is printed first
because a busy machine slows two-thread BLAS far more than its share of CPU.

Needs the bench extra: ``pip install torch==2.13.0 threadpoolctl``.

    python bench/train_speed.py --hidden 800 --epochs 3
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from digitflow.dataset.prepare import load_prepared
from digitflow.network.training import TrainConfig, train


def training_flops(layer_sizes: tuple[int, ...], samples: int) -> float:
    """Multiply-adds x 2 of one epoch: forward, weight gradients, and the gradient flowing
    into every layer but the input (which neither trainer computes)."""
    per_sample = 0
    for layer, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=True)):
        products = 3 if layer > 0 else 2
        per_sample += 2 * fan_in * fan_out * products
    return float(per_sample) * samples


def time_digitflow(X_784xm, y, config: TrainConfig) -> tuple[float, float]:
    empty_X, empty_y = np.zeros((784, 0), np.float32), np.zeros(0, np.uint8)
    started = time.perf_counter()
    result = train(X_784xm, y, empty_X, empty_y, config)
    return time.perf_counter() - started, result.history[-1].train_accuracy


def time_torch(X_784xm, y, config: TrainConfig) -> tuple[float, float]:
    torch.manual_seed(config.seed)
    X_rows = torch.from_numpy(np.ascontiguousarray(X_784xm.T))
    labels = torch.from_numpy(y.astype(np.int64))
    sizes = (784, *config.hidden, 10)
    layers: list[torch.nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        momentum = config.momentum if config.optimizer == "momentum" else 0.0
        nesterov = config.nesterov and config.optimizer == "momentum"
        optimizer = torch.optim.SGD(
            model.parameters(), lr=config.lr, momentum=momentum, nesterov=nesterov
        )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    m = len(y)
    started = time.perf_counter()
    for _ in range(config.epochs):
        order = torch.randperm(m)
        correct = 0
        for start in range(0, m, config.batch_size):
            rows = order[start : start + config.batch_size]
            X_batch, y_batch = X_rows[rows], labels[rows]
            optimizer.zero_grad(set_to_none=True)
            logits = model(X_batch)
            loss = loss_fn(logits, y_batch)
            loss.backward()
            optimizer.step()
            correct += int((logits.argmax(dim=1) == y_batch).sum())
        schedule.step()
    return time.perf_counter() - started, correct / m


def sgemm_gflops(m: int, k: int, n: int, seconds: float = 1.0) -> float:
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        np.matmul(a, b, out=out)
        runs += 1
    return 2.0 * m * k * n * runs / (time.perf_counter() - started) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/prepared"))
    defaults = TrainConfig()
    parser.add_argument("--hidden", type=int, nargs="+", default=list(defaults.hidden))
    parser.add_argument(
        "--optimizer", choices=["sgd", "momentum", "adam"], default=defaults.optimizer
    )
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    config = TrainConfig(
        hidden=tuple(args.hidden),
        optimizer=args.optimizer,
        lr=args.lr,
        batch_size=args.batch_size,
        epochs=args.epochs,
        shift_px=0,
    )
    X, y = load_prepared(args.data_dir, "train")
    sizes = (784, *config.hidden, 10)
    print(f"load average {os.getloadavg()[0]:.2f} (numbers are only meaningful near 0)")
    print(
        f"{sizes} {args.optimizer} lr={args.lr} batch={args.batch_size} epochs={args.epochs} "
        f"on {len(y)} images, {args.threads} threads, torch {torch.__version__}"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"):
        times: dict[str, list[float]] = {"digitflow": [], "torch": []}
        for repeat in range(args.repeats):
            for name, run in (("digitflow", time_digitflow), ("torch", time_torch)):
                seconds, accuracy = run(X, y, config)
                times[name].append(seconds)
                print(f"  run {repeat + 1} {name:9s} {seconds:6.2f} s  train acc {accuracy:.4f}")
        square = sgemm_gflops(2048, 2048, 2048)
        layer_shape = sgemm_gflops(args.batch_size, 784, config.hidden[0])
    flops = training_flops(sizes, len(y)) * args.epochs
    best = {name: min(values) for name, values in times.items()}
    median = {name: float(np.median(values)) for name, values in times.items()}
    for name, seconds in best.items():
        print(
            f"{name:9s} best {seconds:6.2f} s  {flops / seconds / 1e9:6.1f} GFLOP/s  "
            f"(median {median[name]:.2f} s)"
        )
    print(
        f"speed-up digitflow vs torch: {best['torch'] / best['digitflow']:.2f}x best to best, "
        f"{median['torch'] / median['digitflow']:.2f}x median to median"
    )
    print(
        f"numpy sgemm: {square:.1f} GFLOP/s (2048^3), {layer_shape:.1f} GFLOP/s "
        f"({args.batch_size}x784 @ 784x{config.hidden[0]}); digitflow reaches "
        f"{flops / best['digitflow'] / 1e9 / square:.0%} of the square sgemm"
    )


if __name__ == "__main__":
    main()
