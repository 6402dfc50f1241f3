"""Crash safety: fashion_mnist killed with SIGKILL at random points, 20 times. Each time the
event files must read in stock TensorBoard (its Python loader, and the server with both
loaders) up to the last flushed epoch, and the latest checkpoint must verify and restore.

The example flushes its writer and saves its checkpoint before it prints an epoch's line, so
every printed epoch is "flushed"; a kill between the flush and the print may leave one epoch
more, never less.
"""
import os
import random
import re
import subprocess
import sys
import time

import pytest
from tensorboard.backend.event_processing import plugin_event_accumulator

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interop"))
from tb_server import tensorboard  # noqa: E402

PROGRAM = os.environ.get("GB_FASHION_MNIST")
TOOL = os.environ.get("GB_TOOL")
STEPS_PER_EPOCH = 20
EPOCHS = 8
ARGS = ["--train-size", str(STEPS_PER_EPOCH * 128), "--test-size", "300", "--layers", "64,32", "--epochs", str(EPOCHS),
        "--log-every", "2", "--no-progress"]
TRIALS = 20


def printed_epochs(stdout):
    return [int(m.group(1)) for m in re.finditer(r"^epoch\s+(\d+)/", stdout, re.M)]


def accuracy_steps(run_dir):
    """Steps of accuracy/test as TensorBoard's Python loader reads every event file of the run."""
    acc = plugin_event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    if "accuracy/test" not in acc.Tags().get("tensors", []):
        return []
    return [e.step for e in acc.Tensors("accuracy/test")]


def tool(*args):
    return subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def killed_runs(tmp_path_factory):
    assert PROGRAM and TOOL, "GB_FASHION_MNIST / GB_TOOL not set (run through ctest / make test)"
    base = tmp_path_factory.mktemp("killed")
    # an uninterrupted run times the phases: loading the data, then the epochs
    started = time.monotonic()
    process = subprocess.Popen([PROGRAM, *ARGS, "--logdir", base / "uninterrupted"], stdout=subprocess.PIPE, text=True)
    first_epoch = None
    for line in process.stdout:
        if first_epoch is None and line.startswith("epoch"):
            first_epoch = time.monotonic() - started
    assert process.wait(timeout=300) == 0 and first_epoch is not None
    duration = time.monotonic() - started
    rng = random.Random(20261123)
    runs = []
    for trial in range(TRIALS):
        logdir = base / f"trial{trial:02d}"
        process = subprocess.Popen([PROGRAM, *ARGS, "--logdir", logdir], stdout=subprocess.PIPE, text=True)
        seen = ""
        if trial % 4 == 0:  # a quarter of the kills during start-up and the first epoch
            time.sleep(rng.uniform(0.02, first_epoch))
        else:
            # the rest while training goes on: after a chosen number of printed epochs and a random
            # part of the next, counted from the program's own output so that a machine busier now
            # than during the timed run moves the kills with it (timing alone once killed every
            # trial before its first checkpoint)
            epochs_to_see = rng.randint(1, EPOCHS - 1)
            while len(printed_epochs(seen)) < epochs_to_see:
                line = process.stdout.readline()
                if not line:
                    break
                seen += line
            time.sleep(rng.uniform(0, (duration - first_epoch) / EPOCHS))
        process.kill()
        stdout, _ = process.communicate(timeout=60)
        runs.append((logdir, max(printed_epochs(seen + stdout), default=0), process.returncode))
    return base, runs


def test_every_kill_leaves_events_up_to_the_last_flushed_epoch(killed_runs):
    _, runs = killed_runs
    epochs_seen = set()
    for logdir, epochs, returncode in runs:
        if not logdir.exists():
            continue  # killed before the log directory was made
        steps = accuracy_steps(logdir)
        want = [STEPS_PER_EPOCH * (e + 1) for e in range(epochs)]
        assert steps[:epochs] == want and len(steps) <= epochs + 1, f"{logdir.name}: {steps}, printed {epochs} epochs"
        epochs_seen.add(epochs)
    assert len(epochs_seen) >= 2, f"the kills should land at different epochs: {sorted(epochs_seen)}"


def test_every_kill_leaves_a_latest_checkpoint_that_restores(killed_runs):
    _, runs = killed_runs
    restored = 0
    for logdir, epochs, _ in runs:
        latest = tool("ckpt", "latest", logdir) if logdir.exists() else None
        if epochs == 0 and (latest is None or latest.returncode != 0):
            continue  # killed before the first checkpoint: nothing to restore, and nothing claims otherwise
        assert latest.returncode == 0, f"{logdir.name}: printed {epochs} epochs but: {latest.stderr}"
        prefix = latest.stdout.strip()
        step = int(prefix.rsplit("-", 1)[1])
        assert step >= STEPS_PER_EPOCH * epochs, f"{logdir.name}: latest {prefix} older than epoch {epochs}"
        verify = tool("ckpt", "verify", prefix)
        assert verify.returncode == 0, f"{prefix}: {verify.stdout} {verify.stderr}"
        evaluated = subprocess.run([PROGRAM, "--eval-only", "--logdir", logdir, "--test-size", "300", "--layers", "64,32"],
                                   capture_output=True, text=True, timeout=120)
        assert evaluated.returncode == 0 and "test accuracy" in evaluated.stdout, evaluated.stderr
        restored += 1
    assert restored >= TRIALS // 4, f"only {restored} of {TRIALS} kills came after a checkpoint"


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_tensorboard_serves_every_killed_run(killed_runs, load_fast, tmp_path):
    base, runs = killed_runs
    expected = {logdir.name: epochs for logdir, epochs, _ in runs if logdir.exists() and epochs > 0}
    with tensorboard(base, load_fast, tmp_path) as tb:
        def loaded():
            return all(len(tb.get_json("/data/plugin/scalars/scalars", run=name, tag="accuracy/test")) >= epochs
                       for name, epochs in expected.items())
        tb.wait_for(loaded, "every killed run's flushed epochs")
        for name, epochs in expected.items():
            steps = [p[1] for p in tb.get_json("/data/plugin/scalars/scalars", run=name, tag="accuracy/test")]
            assert steps[:epochs] == [STEPS_PER_EPOCH * (e + 1) for e in range(epochs)], f"{name}: {steps}"
