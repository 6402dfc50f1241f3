"""A short fashion_mnist run shows every kind of summary it logs in stock TensorBoard, both loaders."""
import io
import os
import re
import subprocess

import pytest
from PIL import Image

from tb_server import post_json, tensorboard

RUN = "fm"
EPOCHS = 2
STEPS_PER_EPOCH = 10


@pytest.fixture(scope="module")
def fm_run(tmp_path_factory):
    program = os.environ.get("GB_FASHION_MNIST")
    assert program, "GB_FASHION_MNIST is not set (run the interop tests through ctest / make test)"
    logdir = tmp_path_factory.mktemp("fashion_mnist")
    done = subprocess.run([program, "--train-size", str(128 * STEPS_PER_EPOCH), "--test-size", "500",
                           "--epochs", str(EPOCHS), "--layers", "128,64", "--no-progress", "--logdir", str(logdir / RUN)],
                          capture_output=True, text=True, check=True, timeout=300)
    accuracy = float(re.search(r"final test accuracy (\S+)", done.stdout).group(1))
    return logdir, accuracy


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_fashion_mnist_run_in_tensorboard(fm_run, load_fast, tmp_path):
    logdir, accuracy = fm_run
    steps = [STEPS_PER_EPOCH * (e + 1) for e in range(EPOCHS)]
    with tensorboard(logdir, load_fast, tmp_path) as tb:
        def loaded():
            scalars = tb.get_json("/data/plugin/scalars/tags").get(RUN, {})
            graphs = tb.get_json("/data/plugin/graphs/info").get(RUN, {})
            images = tb.get_json("/data/plugin/images/tags").get(RUN, {})
            return "accuracy/test" in scalars and graphs.get("run_graph") and "weights/first_layer" in images \
                and len(tb.get_json("/data/plugin/scalars/scalars", run=RUN, tag="accuracy/test")) == EPOCHS

        tb.wait_for(loaded, "the fashion_mnist run")

        # scalars: one point per epoch at the epoch's last step; the last test accuracy as printed
        for tag in ["loss/train", "accuracy/train", "loss/test", "accuracy/test", "learning_rate",
                    "perf/samples_per_second"]:
            points = tb.get_json("/data/plugin/scalars/scalars", run=RUN, tag=tag)
            assert [p[1] for p in points] == steps, (tag, points)
        test_accuracy = tb.get_json("/data/plugin/scalars/scalars", run=RUN, tag="accuracy/test")
        assert abs(test_accuracy[-1][2] - accuracy) < 1e-4

        # histograms of every weight and gradient, each bucket count adding up to the tensor's size
        sizes = {"dense1/kernel": 784 * 128, "dense1/bias": 128, "dense2/kernel": 128 * 64, "dense2/bias": 64,
                 "logits/kernel": 64 * 10, "logits/bias": 10}
        for name, size in sizes.items():
            for kind in ["weights", "gradients"]:
                series = tb.get_json("/data/plugin/histograms/histograms", run=RUN, tag=f"{kind}/{name}")
                assert [s[1] for s in series] == steps, (kind, name)
                assert all(round(sum(b[2] for b in s[2])) == size for s in series), (kind, name)

        # image grids that decode: 64 misclassified test images and 64 first-layer units, 8 by 8
        for tag in ["misclassified/images", "weights/first_layer"]:
            entries = tb.get_json("/data/plugin/images/images", run=RUN, tag=tag, sample=0)
            assert [e["step"] for e in entries] == steps, tag
            png = Image.open(io.BytesIO(tb.get_bytes("/data/plugin/images/individualImage?" + entries[-1]["query"])))
            assert png.mode == "L" and png.size[0] >= 8 * 28 and png.size[1] >= 8 * 28, (tag, png.mode, png.size)

        # text: the config and the misclassified labels table
        config = tb.get_json("/data/plugin/text/text", run=RUN, tag="config")
        assert "<td>optimizer</td>" in config[0]["text"] and "<td>adam</td>" in config[0]["text"], config
        labels = tb.get_json("/data/plugin/text/text", run=RUN, tag="misclassified/labels")
        assert "<td><p>true class</p></td>" in labels[-1]["text"], labels[-1]["text"][:300]

        # hparams: the run with its config and final metric, status success
        request = {"experimentName": "", "allowedStatuses": ["STATUS_SUCCESS"], "colParams": [], "startIndex": 0,
                   "sliceSize": 10}
        groups = tb.wait_for(lambda: post_json(tb, "/data/plugin/hparams/session_groups", request)
                             .get("sessionGroups"), "the hparams session")
        group = groups[0]
        assert group["hparams"]["layers"] == "128,64" and group["hparams"]["optimizer"] == "adam"
        metrics = {m["name"]["tag"]: m["value"] for m in group["sessions"][0]["metricValues"]}
        assert abs(metrics["accuracy/test"] - accuracy) < 1e-4, metrics

        # the graph with its profiled first step, and the custom scalars layout
        info = tb.get_json("/data/plugin/graphs/info")[RUN]
        assert info["tags"]["step_1"]["profile"] is True, info
        graph = tb.get_bytes(f"/data/plugin/graphs/graph?run={RUN}").decode()
        for node in ["dense1/MatMul", "dense1/kernel", "loss/SparseSoftmaxCrossEntropyWithLogits", "Adam"]:
            assert f'name: "{node}' in graph, node
        layout = tb.get_json("/data/plugin/custom_scalars/layout")
        charts = [c["title"] for cat in layout["category"] for c in cat["chart"]]
        assert "loss: train vs test" in charts, layout
