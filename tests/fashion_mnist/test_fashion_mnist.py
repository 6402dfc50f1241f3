"""fashion_mnist's command line, data errors, checkpoints and resuming, on small slices of the data.

The full default run (the accuracy target) is tested through `make demo` in test_demo.py.
"""
import gzip
import os
import re
import shutil
import subprocess

import pytest

PROGRAM = os.environ.get("GB_FASHION_MNIST")
TOOL = os.environ.get("GB_TOOL")
DATA = "/usr/share/datasets/fashion-mnist"
SMALL = ["--train-size", "1280", "--test-size", "300", "--batch", "128", "--no-progress"]


def run(*args, check=True):
    assert PROGRAM, "GB_FASHION_MNIST is not set (run through ctest / make test)"
    done = subprocess.run([PROGRAM, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def epoch_lines(stdout):
    """The per-epoch lines without their timings, which differ run to run."""
    return [re.sub(r"\s+[\d.]+ s \(.*\)$", "", line) for line in stdout.splitlines() if line.startswith("epoch")]


def test_help_lists_every_option():
    done = run("--help")
    for option in ["--layers", "--batch", "--optimizer", "--lr", "--epochs", "--seed", "--restore", "--eval-only",
                   "--data", "--logdir", "--stop-after", "--check-numerics", "dataset-fashion-mnist"]:
        assert option in done.stdout, option


@pytest.mark.parametrize("args,message", [
    (["--batch", "0"], "--batch wants an integer"),
    (["--layers", "256,x"], "--layers wants"),
    (["--optimizer", "lbfgs"], "unknown 'lbfgs'"),
    (["--lr", "nan"], "--lr wants a number"),
    (["--bogus"], "unknown option '--bogus'"),
    (["--epochs"], "--epochs needs a value"),
    (["--restore", "--eval-only"], "exclude each other"),
    (["extra"], "unexpected argument 'extra'"),
])
def test_usage_errors_exit_2_with_a_message(args, message):
    done = run(*args, check=False)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert message in done.stderr, done.stderr


def test_missing_data_names_the_debian_package(tmp_path):
    done = run("--data", tmp_path / "nothing", "--logdir", tmp_path / "run", check=False)
    assert done.returncode == 1
    assert "install the Debian package dataset-fashion-mnist" in done.stderr, done.stderr
    assert not (tmp_path / "run").exists(), "nothing written when the data is missing"


@pytest.mark.parametrize("damage,message", [
    ("truncate", "unexpected end of file"),
    ("magic", "not an IDX file"),
    ("short", "promises"),
])
def test_damaged_data_gives_a_clear_error(tmp_path, damage, message):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    labels = data / "train-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    if damage == "truncate":
        labels.write_bytes(labels.read_bytes()[:1000])
    elif damage == "magic":
        labels.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + raw[4:]))
    else:
        labels.write_bytes(gzip.compress(raw[:-10]))
    done = run("--data", data, "--logdir", tmp_path / "run", check=False)
    assert done.returncode == 1
    assert "train-labels-idx1-ubyte.gz" in done.stderr and message in done.stderr, done.stderr


def test_resume_continues_bit_for_bit(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    whole = run(*SMALL, "--epochs", 3, "--logdir", straight)
    first = run(*SMALL, "--epochs", 3, "--logdir", resumed, "--stop-after", 1)
    rest = run(*SMALL, "--epochs", 3, "--logdir", resumed, "--restore")
    assert "restored" in rest.stdout and "model.ckpt-10" in rest.stdout
    assert epoch_lines(first.stdout) + epoch_lines(rest.stdout) == epoch_lines(whole.stdout)
    diff = subprocess.run([TOOL, "ckpt", "diff", straight / "model.ckpt-30", resumed / "model.ckpt-30"],
                          capture_output=True, text=True, check=True).stdout
    values = re.findall(r"max \|a - b\| = (\S+)", diff)
    assert len(values) == 3 * 2 * 3 + 3, diff  # kernels and biases with two Adam slots; global_step, powers
    assert all(float(v) == 0 for v in values), diff


def test_eval_only_reports_the_trained_accuracy(tmp_path):
    trained = run(*SMALL, "--epochs", 2, "--logdir", tmp_path)
    accuracy = re.search(r"final test accuracy (\S+)", trained.stdout).group(1)
    assert f"checkpoint {tmp_path}/model.ckpt-20" in trained.stdout
    evaluated = run("--eval-only", "--logdir", tmp_path, "--test-size", "300")
    assert f"test accuracy {accuracy}" in evaluated.stdout, evaluated.stdout


def test_eval_only_without_a_checkpoint_fails(tmp_path):
    done = run("--eval-only", "--logdir", tmp_path, check=False)
    assert done.returncode == 1 and "no checkpoint" in done.stderr, done.stderr


def test_keeps_the_five_newest_checkpoints(tmp_path):
    run("--train-size", "256", "--test-size", "100", "--batch", "128", "--epochs", "7", "--no-progress",
        "--logdir", tmp_path)
    kept = sorted(int(name.split("-")[1].split(".")[0]) for name in os.listdir(tmp_path) if name.endswith(".index"))
    assert kept == [6, 8, 10, 12, 14]
    state = (tmp_path / "checkpoint").read_text()
    assert state.startswith(f'model_checkpoint_path: "model.ckpt-14"'), state


def test_progress_bar_on_request_and_plain_lines_otherwise(tmp_path):
    bar = run(*SMALL[:-1], "--progress", "--epochs", 1, "--logdir", tmp_path / "bar")
    # text mode turns the bar's carriage returns into newlines; the erase-line code survives
    assert "\x1b[K" in bar.stderr and "samples/s" in bar.stderr and "ETA" in bar.stderr, bar.stderr
    plain = run(*SMALL, "--epochs", 1, "--logdir", tmp_path / "plain")
    assert plain.stderr == ""
    assert len(epoch_lines(plain.stdout)) == 1


def test_every_optimizer_and_schedule_trains(tmp_path):
    for optimizer, schedule in [("sgd", "step"), ("momentum", "exponential"), ("adamw", "constant"),
                                ("rmsprop", "cosine"), ("adagrad", "constant")]:
        lr = "0.05" if optimizer in ("sgd", "momentum", "adagrad") else "0.001"
        done = run(*SMALL, "--epochs", 2, "--optimizer", optimizer, "--schedule", schedule, "--lr", lr,
                   "--layers", "64", "--logdir", tmp_path / optimizer)
        losses = [float(m) for m in re.findall(r"train loss (\S+)", done.stdout)]
        assert losses[1] < losses[0], (optimizer, done.stdout)


def test_check_numerics_names_the_op_where_training_blows_up(tmp_path):
    diverging = [*SMALL, "--optimizer", "sgd", "--lr", 1000, "--schedule", "constant", "--epochs", 1]
    unchecked = run(*diverging, "--logdir", tmp_path / "unchecked")
    assert "final test accuracy" in unchecked.stdout  # NaN losses, but nothing stops the run
    checked = run(*diverging, "--check-numerics", "--logdir", tmp_path / "checked", check=False)
    assert checked.returncode == 1, checked.stdout
    assert re.search(r"check_numerics: op \S+ \(\w+\) produced (NaN|[+-]Inf) at element \d+", checked.stderr), checked.stderr


def test_the_config_text_shows_the_layer_widths_as_the_model_has_them(tmp_path):
    run("--train-size", "256", "--test-size", "100", "--layers", "64,32", "--epochs", "1", "--no-progress",
        "--logdir", tmp_path)
    listed = subprocess.run([TOOL, "events", tmp_path, "--json", "--tag", "config"], capture_output=True, text=True,
                            check=True).stdout
    assert "| layers | 784-64-32-10 |" in listed, listed  # was 784-64,32-10
