"""`make demo`'s script, as a new user runs it: the default Fashion-MNIST training reaches the
accuracy target, leaves a checkpoint and logs, and TensorBoard serves them."""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE, "tests", "interop"))
from tb_server import free_port  # noqa: E402

BUILD = os.environ.get("GB_BUILD_DIR")


def demo(cwd, serve, **env):
    assert BUILD, "GB_BUILD_DIR is not set (run through ctest / make test)"
    return subprocess.Popen(["bash", os.path.join(SOURCE, "tools", "demo.sh"), BUILD, sys.executable], cwd=cwd,
                            env={**os.environ, "DEMO_SERVE": serve, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_default_demo_reaches_the_accuracy_target(tmp_path):
    process = demo(tmp_path, "0")
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0, out
    accuracy = float(re.search(r"^final test accuracy (\S+)$", out, re.M).group(1))
    assert accuracy >= 0.89, out
    seconds = float(re.search(r"^trained 15 epochs in (\S+) s$", out, re.M).group(1))
    print(f"demo: test accuracy {accuracy:.4f} after {seconds:.1f} s of training")
    checkpoint = re.search(r"^checkpoint: (\S+)$", out, re.M).group(1)
    assert os.path.exists(os.path.join(tmp_path, checkpoint + ".index")), out
    runs = os.listdir(tmp_path / "runs")
    assert sorted(runs) == ["fashion_mnist", "seed_optimize"], runs
    assert "Epoch : 29 [-0.49458402, -1.2499707]" in out


def test_demo_serves_tensorboard_until_interrupted(tmp_path):
    port = free_port()
    process = demo(tmp_path, "1", DEMO_PORT=str(port), DEMO_ARGS="--epochs 1 --train-size 1280 --test-size 200")
    try:
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5) as response:
                    runs = response.read().decode()
                if "seed_optimize" in runs and "fashion_mnist" in runs:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read()
            assert time.time() < deadline, "TensorBoard did not serve both runs"
            time.sleep(1)
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        out, _ = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out
