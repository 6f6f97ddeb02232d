"""The training loop on tiny synthetic digits: learning, reruns, early stopping, failures."""

import dataclasses
import re

import numpy as np
import pytest
import yaml
from helpers import synthetic_digits
from threadpoolctl import threadpool_limits

from digitflow.errors import ParamsError
from digitflow.network.lanes import Lanes
from digitflow.network.mlp import Network, evaluate, init_network
from digitflow.network.model_io import save_network
from digitflow.network.training import (
    DivergedError,
    EpochStats,
    TrainConfig,
    class_histogram,
    collapsed_class,
    train,
)
from digitflow.params import load_section

TINY = TrainConfig(
    hidden=(16,),
    optimizer="momentum",
    lr=0.05,
    batch_size=32,
    epochs=4,
    shift_px=0,
    rotate_deg=0.0,
    slant=0.0,
    aspect=0.0,
)


@pytest.fixture(scope="module")
def data():
    X_train, y_train = synthetic_digits(300, seed=1)
    X_val, y_val = synthetic_digits(100, seed=2)
    return X_train, y_train, X_val, y_val


def no_val() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((784, 0), np.float32), np.zeros(0, np.uint8)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_minibatch_optimisers_learn_the_synthetic_digits(data, optimizer):
    lr = 0.005 if optimizer == "adam" else 0.1
    config = dataclasses.replace(TINY, optimizer=optimizer, lr=lr)
    result = train(*data, config)
    assert result.history[-1].val_accuracy > 0.95
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_gd_takes_one_full_batch_step_per_epoch(data):
    X_train, y_train, X_val, y_val = data
    config = dataclasses.replace(TINY, hidden=(10,), optimizer="gd", lr=0.1, schedule="constant")
    result = train(X_train, y_train, X_val, y_val, config)
    # The first epoch's loss is the loss of the initial weights on the whole training set.
    initial = init_network((784, 10, 10), np.random.default_rng(config.seed))
    assert result.history[0].train_loss == pytest.approx(evaluate(initial, X_train, y_train)[0])
    losses = [stats.train_loss for stats in result.history]
    assert losses == sorted(losses, reverse=True)


def test_gd_is_the_seeds_method_whatever_the_schedule_and_augmentation(data):
    plain = dataclasses.replace(TINY, optimizer="gd", schedule="constant", epochs=2)
    dressed = dataclasses.replace(
        plain, schedule="cosine", shift_px=2, rotate_deg=5.0, elastic_alpha=30.0, pen=0.5
    )
    assert dressed.ignored_keys() == [
        "batch_size",
        "schedule",
        "shift_px",
        "rotate_deg",
        "elastic_alpha",
        "pen",
    ]
    assert TINY.ignored_keys() == []
    first, second = train(*data, plain).network, train(*data, dressed).network
    np.testing.assert_array_equal(first.weights[0], second.weights[0])


def test_history_has_one_entry_per_epoch_and_on_epoch_sees_each(data):
    seen: list[EpochStats] = []
    result = train(*data, TINY, on_epoch=seen.append)
    assert seen == result.history
    assert [s.epoch for s in seen] == [1, 2, 3, 4]
    assert all(0 <= s.train_accuracy <= 1 and s.seconds >= 0 for s in seen)
    assert seen[0].lr == TINY.lr and seen[-1].lr < TINY.lr  # cosine schedule


def test_same_config_and_seed_give_bit_identical_weight_files(tmp_path, data):
    config = dataclasses.replace(
        TINY,
        shift_px=1,
        rotate_deg=10.0,
        elastic_alpha=8.0,
        slant=0.3,
        aspect=0.2,
        pen=0.5,
        weight_decay=1e-4,
    )
    paths = [tmp_path / "first.npz", tmp_path / "second.npz"]
    for path in paths:
        result = train(*data, config)
        save_network(path, result.network, result.summary(config))
    assert paths[0].read_bytes() == paths[1].read_bytes()


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_two_lanes_train_bit_identical_weights_to_one(data, optimizer):
    config = dataclasses.replace(TINY, optimizer=optimizer, shift_px=1, rotate_deg=10.0)
    one = train(*data, config, lanes=Lanes(1)).network
    two = train(*data, config, lanes=Lanes(2)).network
    for W_one, W_two in zip(one.parameters(), two.parameters(), strict=True):
        np.testing.assert_array_equal(W_one, W_two)


def test_weights_do_not_depend_on_the_blas_threads_around_training(data):
    # Products big enough that two-thread OpenBLAS cuts them between its threads, summing
    # in another order than one thread does.
    config = dataclasses.replace(TINY, hidden=(256,), batch_size=128, epochs=1)
    runs = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            runs.append(train(*data, config, lanes=Lanes(2)).network)
    for W_one, W_two in zip(runs[0].parameters(), runs[1].parameters(), strict=True):
        assert W_one.tobytes() == W_two.tobytes()


def test_another_seed_gives_other_weights(data):
    first = train(*data, TINY).network
    second = train(*data, dataclasses.replace(TINY, seed=1)).network
    assert not np.array_equal(first.weights[0], second.weights[0])


@pytest.mark.parametrize(("lr", "loss"), [(1e3, r"\d"), (1e30, "nan")])
def test_huge_learning_rate_raises_diverged_error_naming_epoch_and_lr(data, lr, loss):
    config = dataclasses.replace(TINY, optimizer="sgd", lr=lr, schedule="constant")
    with pytest.raises(DivergedError) as caught:
        train(*data, config)
    expected = (
        rf"epoch 1 \(batch loss {loss}.*smaller learning rate.*train\.lr={re.escape(str(lr))}"
    )
    assert re.search(expected, str(caught.value))


def test_early_stopping_stops_after_patience_and_keeps_the_best_weights(data):
    X_train, y_train, X_val, y_val = data
    # Labels of the validation split shuffled: val accuracy cannot keep improving.
    y_val = np.random.default_rng(0).permutation(y_val)
    config = dataclasses.replace(TINY, epochs=30, patience=2)
    result = train(X_train, y_train, X_val, y_val, config)
    assert len(result.history) < config.epochs
    assert len(result.history) - result.best_epoch == config.patience
    best = result.history[result.best_epoch - 1]
    assert best.val_accuracy == max(s.val_accuracy for s in result.history)
    assert evaluate(result.network, X_val, y_val) == pytest.approx(
        (best.val_loss, best.val_accuracy)
    )


def test_without_validation_data_all_epochs_run_and_last_weights_are_kept(data):
    X_train, y_train, _, _ = data
    config = dataclasses.replace(TINY, patience=1)
    result = train(X_train, y_train, *no_val(), config)
    assert len(result.history) == config.epochs == result.best_epoch
    assert np.isnan(result.history[-1].val_loss)
    assert result.summary(config)["history"][-1]["val_loss"] is None  # strict JSON in meta
    last = result.history[-1]
    assert evaluate(result.network, X_train, y_train)[1] >= last.train_accuracy - 0.05


def collapsed_network(favourite: int) -> Network:
    network = init_network((784, 4, 10), np.random.default_rng(0))
    network.biases[-1][favourite] = 100.0
    return network


def test_collapse_onto_one_class_is_detected_with_its_histogram(data):
    X_val = data[2]
    histogram = class_histogram(collapsed_network(2), X_val)
    assert histogram.tolist() == [0, 0, 100, 0, 0, 0, 0, 0, 0, 0]
    assert collapsed_class(histogram) == 2


def test_balanced_predictions_are_not_a_collapse():
    assert collapsed_class(np.array([10, 9, 11, 10, 10, 10, 10, 10, 10, 10])) is None
    assert collapsed_class(np.zeros(10, dtype=np.int64)) is None


def test_config_loads_from_params_yaml_with_hidden_as_tuple(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"train": {"hidden": [32, 16], "lr": 0.01, "patience": 3}}))
    config = load_section(params, "train", TrainConfig)
    assert config.hidden == (32, 16) and config.lr == 0.01 and config.patience == 3


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("hidden", ()),
        ("hidden", (16, 0)),
        ("lr", 0.0),
        ("momentum", 1.0),
        ("batch_size", 0),
        ("epochs", 0),
        ("patience", 0),
        ("shift_px", -1),
        ("rotate_deg", -1.0),
        ("rotate_deg", 90.0),
        ("elastic_alpha", -1.0),
        ("elastic_sigma", 0.0),
        ("slant", -0.1),
        ("slant", 1.5),
        ("aspect", 0.6),
        ("pen", 1.1),
        ("weight_decay", -0.1),
        ("step_gamma", 0.0),
    ],
)
def test_out_of_range_values_name_the_key(key, value):
    with pytest.raises(ParamsError, match=rf"^train\.{key}(\[\d\])? "):
        dataclasses.replace(TrainConfig(), **{key: value})
