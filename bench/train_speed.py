"""Training speed: digitflow's numpy trainer against PyTorch on CPU, same work, one script.

Both train the same architecture with the same optimiser, learning rate, batch size and number
of epochs (by default those of ``TrainConfig``, i.e. of params.yaml's defaults) on the same
prepared arrays (shuffled each epoch, no augmentation: no shifts, turns, slant or
elastic distortion, no validation pass), with the same
number of threads. Prints the seconds of each, the ratio, and the
achieved GFLOP/s against a plain numpy float32 sgemm of this machine (a square 2048 product and
the first layer's own (batch, 784) @ (784, hidden) shape).

Runs alternate (digitflow, torch, digitflow, torch, ...) and the fastest of each is kept, so a
burst of load from another process hits both sides alike; the load average is printed first
because a busy machine slows two-thread BLAS far more than its share of CPU.

``--phases`` instead times each phase of digitflow's training step at the given config with
its default augmentation (gather, augment, forward, loss, backward, update) over a number of
steps, and the step's matrix products alone, cut and run on the lanes as the trainer runs them:
what is BLAS and what is the rest. It prints the median and the best of each phase: the best
is what an idle machine gives. It also times the same products on one lane, to show what the
second lane gains on them.

``--augmentation`` instead alternates digitflow's epochs without and with its default
augmentation (shifts, turns and slant) and prints what augmentation adds to an epoch, best to best.

``--threads`` is torch's thread count, BLAS's outside digitflow's epochs (which hold it to
one) and the trainer's lanes (the threads its products and elementwise phases run on).
``--backend`` picks how those phases run: ``numba`` (fused kernels, the default when numba
is installed) or ``numpy``; the first line printed says
which ran. Both give the same bits, so only the times differ.

Needs the bench extra: ``pip install -e '.[bench]'`` (torch, threadpoolctl, numba).

    python bench/train_speed.py --hidden 800 --epochs 3
    python bench/train_speed.py --phases --steps 400
    python bench/train_speed.py --augmentation --epochs 2 --repeats 5
"""

import argparse
import dataclasses
import functools
import os
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from digitflow.dataset.prepare import load_prepared
from digitflow.network import kernels
from digitflow.network.lanes import Lanes
from digitflow.network.mlp import INPUT_SIZE, NUM_CLASSES, Workspace, init_network
from digitflow.network.training import Stepper, TrainConfig, train

PHASES = ("gather", "augment", "forward", "loss", "backward", "update")


def training_flops(layer_sizes: tuple[int, ...], samples: int) -> float:
    """Multiply-adds x 2 of one epoch: forward, weight gradients, and the gradient flowing
    into every layer but the input (which neither trainer computes)."""
    per_sample = 0
    for layer, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:], strict=True)):
        products = 3 if layer > 0 else 2
        per_sample += 2 * fan_in * fan_out * products
    return float(per_sample) * samples


def time_digitflow(
    X_784xm, y, config: TrainConfig, threads: int, fused: bool
) -> tuple[float, float]:
    empty_X, empty_y = np.zeros((784, 0), np.float32), np.zeros(0, np.uint8)
    started = time.perf_counter()
    result = train(X_784xm, y, empty_X, empty_y, config, lanes=Lanes(threads), fused=fused)
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


def phase_times(
    X_784xm, y, config: TrainConfig, steps: int, threads: int, fused: bool
) -> dict[str, list[float]]:
    """Seconds of each phase of each of ``steps`` training steps, driven like the trainer's
    epoch loop through its own :class:`Stepper` with BLAS held to one thread as its epochs
    hold it, plus ``products``: the step's matrix products alone, on the lanes, and ``one
    lane``: the same on one lane. Every other step runs its phases one after the
    other; the steps between also make the next batch beside the update, as the trainer
    does, and give ``overlapped``: the update and the next batch's gather and augmentation."""
    rng = np.random.default_rng(config.seed)
    network = init_network((INPUT_SIZE, *config.hidden, NUM_CLASSES), rng)
    stepper = Stepper(network, config, len(y), Lanes(threads), fused)
    workspace, batch_size = stepper.workspace, stepper.batch_size
    X_rows = np.ascontiguousarray(X_784xm.T, dtype=np.float32)
    order = rng.permutation(len(y))
    products = ProductsOnly(network, batch_size, stepper.lanes)
    products_one_lane = ProductsOnly(network, batch_size, Lanes(1))
    names = (*PHASES, "overlapped", "products", "one lane")
    times: dict[str, list[float]] = {name: [] for name in names}
    for step in range(steps):
        start = step * batch_size % (len(y) - batch_size + 1)
        rows = order[start : start + batch_size]
        clock = [time.perf_counter()]
        X_batch = stepper.gather(X_rows, rows)
        clock.append(time.perf_counter())
        if stepper.augmenter.active:
            stepper.augmenter(X_batch, rng)
        clock.append(time.perf_counter())
        logits = workspace.forward(network, X_batch.T)
        clock.append(time.perf_counter())
        workspace.loss(logits, y[rows])
        clock.append(time.perf_counter())
        workspace.backward(network, X_batch.T, logits)
        clock.append(time.perf_counter())
        tasks = stepper.optimizer.step_tasks(stepper.gradients, config.lr)
        if step % 2:  # the trainer's way: the next batch (made again below) beside the update
            next_start = (step + 1) * batch_size % (len(y) - batch_size + 1)
            next_rows = order[next_start : next_start + batch_size]
            tasks.insert(0, functools.partial(stepper.prepare, X_rows, next_rows, rng))
        stepper.lanes.run_all(tasks)
        clock.append(time.perf_counter())
        if step % 2:
            times["overlapped"].append(clock[-1] - clock[-2])
        else:
            for name, begin, end in zip(PHASES, clock, clock[1:], strict=False):
                times[name].append(end - begin)
        times["products"].append(products.time_pass(network, X_batch, logits))
        times["one lane"].append(products_one_lane.time_pass(network, X_batch, logits))
    return times


class ProductsOnly(Workspace):
    """A workspace whose ReLU passes do nothing: its forward and backward passes are the
    trainer's matrix products alone (and the logits' bias), cut and run as the trainer runs
    them, into its own buffers."""

    @staticmethod
    def bias_relu(Z, b, negated_b) -> None:
        pass

    relu_gradient = bias_relu

    def time_pass(self, network, X_bx784: np.ndarray, dlogits: np.ndarray) -> float:
        """Seconds of one forward and backward pass of ``X_bx784`` given ``dlogits``."""
        started = time.perf_counter()
        self.forward(network, X_bx784.T)
        self.backward(network, X_bx784.T, dlogits)
        return time.perf_counter() - started


def print_phases(times: dict[str, list[float]]) -> None:
    median = {name: float(np.median(values)) * 1e3 for name, values in times.items()}
    best = {name: min(values) * 1e3 for name, values in times.items()}
    step_median = sum(median[name] for name in PHASES)
    step_best = sum(best[name] for name in PHASES)
    print(f"phase breakdown of {2 * len(times['update'])} steps, ms per step:")
    print(f"  {'phase':9s} {'median':>7s} {'best':>7s}  share of the median step")
    for name in PHASES:
        print(
            f"  {name:9s} {median[name]:7.3f} {best[name]:7.3f}  {median[name] / step_median:5.1%}"
        )
    print(f"  {'step':9s} {step_median:7.3f} {step_best:7.3f}  its phases one after the other")
    made_beside = ("gather", "augment", "update")
    trainer_median = step_median - sum(median[n] for n in made_beside) + median["overlapped"]
    trainer_best = step_best - sum(best[n] for n in made_beside) + best["overlapped"]
    print(
        f"  {'overlap':9s} {median['overlapped']:7.3f} {best['overlapped']:7.3f}  the update "
        f"with the next batch's gather and augmentation beside it, as the trainer runs them"
    )
    print(f"  {'trainer':9s} {trainer_median:7.3f} {trainer_best:7.3f}  the step as trained")
    print(
        f"  {'products':9s} {median['products']:7.3f} {best['products']:7.3f}  matrix products "
        f"alone: {best['products'] / step_best:.0%} of the best step"
    )
    print(
        f"  {'one lane':9s} {median['one lane']:7.3f} {best['one lane']:7.3f}  the same "
        f"products on one lane: the lanes run them "
        f"{best['one lane'] / best['products']:.2f}x as fast"
    )
    augment = best["augment"]
    print(
        f"augmentation adds {augment / (step_best - augment):.0%} to a step run phase after "
        f"phase (best to best)"
    )


def print_augmentation_cost(
    X, y, plain, augmented, threads: int, repeats: int, fused: bool
) -> None:
    print(
        f"digitflow epochs without and with shift_px={augmented.shift_px} "
        f"rotate_deg={augmented.rotate_deg} slant={augmented.slant} aspect={augmented.aspect} "
        f"pen={augmented.pen}, {threads} threads"
    )
    times: dict[str, list[float]] = {"plain": [], "augmented": []}
    for repeat in range(repeats):
        for name, config in (("plain", plain), ("augmented", augmented)):
            seconds, _ = time_digitflow(X, y, config, threads, fused)
            times[name].append(seconds)
            print(f"  run {repeat + 1} {name:9s} {seconds:6.2f} s")
    best = {name: min(values) for name, values in times.items()}
    print(
        f"augmentation adds {best['augmented'] / best['plain'] - 1:.0%} to an epoch "
        f"(best to best: {best['plain']:.2f} s -> {best['augmented']:.2f} s)"
    )


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
    parser.add_argument("--phases", action="store_true", help="time each phase of a step")
    parser.add_argument("--steps", type=int, default=400, help="steps timed by --phases")
    parser.add_argument(
        "--augmentation", action="store_true", help="epochs without and with augmentation"
    )
    parser.add_argument(
        "--backend",
        choices=["numba", "numpy"],
        default=kernels.BACKEND,
        help="how the elementwise phases run (default: numba when it is installed)",
    )
    args = parser.parse_args()
    if args.backend == "numba" and not kernels.AVAILABLE:
        parser.error("--backend numba needs numba: pip install -e '.[fast]'")
    fused = args.backend == "numba"

    torch.set_num_threads(args.threads)
    config = TrainConfig(
        hidden=tuple(args.hidden),
        optimizer=args.optimizer,
        lr=args.lr,
        batch_size=args.batch_size,
        epochs=args.epochs,
    )
    X, y = load_prepared(args.data_dir, "train")
    sizes = (784, *config.hidden, 10)
    print(f"load average {os.getloadavg()[0]:.2f} (numbers are only meaningful near 0)")
    print(f"elementwise phases: {args.backend}" + (" (fused kernels)" if fused else ""))
    if args.phases:
        print(
            f"{sizes} {args.optimizer} batch={args.batch_size} shift_px={config.shift_px} "
            f"rotate_deg={config.rotate_deg} slant={config.slant}, {args.threads} threads"
        )
        with threadpool_limits(limits=1, user_api="blas"):  # as the trainer's epochs hold it
            print_phases(phase_times(X, y, config, args.steps, args.threads, fused))
        return
    # Both sides train on the images as they are: torch gets no augmentation.
    augmented = config
    config = dataclasses.replace(
        config, shift_px=0, rotate_deg=0.0, elastic_alpha=0.0, slant=0.0, aspect=0.0, pen=0.0
    )
    if args.augmentation:
        with threadpool_limits(limits=args.threads, user_api="blas"):
            print_augmentation_cost(X, y, config, augmented, args.threads, args.repeats, fused)
        return
    print(
        f"{sizes} {args.optimizer} lr={args.lr} batch={args.batch_size} epochs={args.epochs} "
        f"on {len(y)} images, {args.threads} threads, torch {torch.__version__}"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"):
        times: dict[str, list[float]] = {"digitflow": [], "torch": []}
        digitflow = functools.partial(time_digitflow, threads=args.threads, fused=fused)
        for repeat in range(args.repeats):
            for name, run in (("digitflow", digitflow), ("torch", time_torch)):
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
