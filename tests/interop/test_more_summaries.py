"""hparams, PR curves, custom scalars, audio and resumed runs, through both TensorBoard loaders."""
import io
import json
import math
import urllib.request
import wave

import numpy as np
import pytest

from tb_server import post_json, tensorboard

STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


def expected_pr(labels, predictions, k):
    """The PR curve computed independently of both writers: counts at or above each threshold."""
    thresholds = [i / (k - 1) for i in range(k)]
    rows = {"tp": [], "fp": [], "tn": [], "fn": [], "precision": [], "recall": []}
    # a prediction's bucket is floor(p * (k - 1)) computed in float32, as TensorBoard's NumPy code
    # computes it (0.9f * 10 is 9.0 in float32, 8.99999976 in double)
    buckets = [math.floor(np.float32(p) * np.float32(k - 1)) for p in predictions]
    for t in thresholds:
        # a prediction counts at threshold i when its bucket >= i
        above = [b >= round(t * (k - 1)) for b in buckets]
        tp = sum(1 for a, l in zip(above, labels) if a and l)
        fp = sum(1 for a, l in zip(above, labels) if a and not l)
        fn = sum(labels) - tp
        tn = (len(labels) - sum(labels)) - fp
        rows["tp"].append(tp), rows["fp"].append(fp), rows["tn"].append(tn), rows["fn"].append(fn)
        rows["precision"].append(tp / max(1e-7, tp + fp))
        rows["recall"].append(tp / max(1e-7, tp + fn))
    return thresholds, rows


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_hparams_pr_custom_scalars_audio_and_restarts(more_logdir, load_fast, tmp_path):
    with tensorboard(more_logdir, load_fast, tmp_path) as tb:
        request = {"experimentName": "", "allowedStatuses": STATUSES, "colParams": [], "startIndex": 0,
                   "sliceSize": 100}

        def groups():
            g = post_json(tb, "/data/plugin/hparams/session_groups", request).get("sessionGroups", [])
            done = len(g) == 3 and all(s.get("metricValues") for grp in g for s in grp["sessions"])
            return g if done and len(tb.get_json("/data/plugin/scalars/scalars", run="resumed_run", tag="loss")) == 10 \
                else None

        session_groups = tb.wait_for(groups, "three hparams sessions with metrics")

        # hparams: every run with its hyperparameters, final metric and status
        by_run = {grp["sessions"][0]["name"]: grp for grp in session_groups}
        want = {"trial_0": (0.1, "adam", False, 0.81), "trial_1": (0.01, "sgd", True, 0.88),
                "trial_2": (0.001, "adam", False, 0.85)}
        assert set(by_run) == set(want)
        for run, (lr, optimizer, dropout, accuracy) in want.items():
            grp = by_run[run]
            assert grp["hparams"] == {"lr": lr, "optimizer": optimizer, "dropout": dropout}, grp["hparams"]
            session = grp["sessions"][0]
            assert session["status"] == "STATUS_SUCCESS"
            metric = session["metricValues"][0]
            assert metric["name"]["tag"] == "test/accuracy" and metric["trainingStep"] == 10
            assert np.float32(metric["value"]) == np.float32(accuracy)
        experiment = post_json(tb, "/data/plugin/hparams/experiment", {"experimentName": ""})
        infos = {h["name"]: h for h in experiment["hparamInfos"]}
        assert infos["lr"]["domainInterval"] == {"minValue": 0.0001, "maxValue": 1.0}
        assert infos["optimizer"]["domainDiscrete"] == ["adam", "sgd"]
        assert infos["dropout"]["type"] == "DATA_TYPE_BOOL"
        assert experiment["metricInfos"][0]["name"]["tag"] == "test/accuracy"

        # PR curve: the counts, precision and recall computed here
        labels = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0]
        predictions = [0.1, 0.8, 0.6, 0.3, 0.9, 0.45, 0.2, 1.0, 0.0, 0.75]
        predictions = [float(np.float32(p)) for p in predictions]
        thresholds, rows = expected_pr(labels, predictions, 11)
        curve = tb.get_json("/data/plugin/pr_curves/pr_curves", run="pr_run", tag="pr/pr_curves")["pr_run"][0]
        np.testing.assert_allclose(curve["thresholds"], thresholds)
        for key, name in [("tp", "true_positives"), ("fp", "false_positives"), ("tn", "true_negatives"),
                          ("fn", "false_negatives")]:
            assert curve[name] == rows[key], (name, curve[name], rows[key])
        np.testing.assert_allclose(curve["precision"], rows["precision"], rtol=1e-6)
        np.testing.assert_allclose(curve["recall"], rows["recall"], rtol=1e-6)

        # custom scalars: the layout round-trips and its regex finds the scalars
        layout = tb.get_json("/data/plugin/custom_scalars/layout")
        category = layout["category"][0]
        assert category["title"] == "training"
        assert category["chart"][0] == {"title": "losses", "multiline": {"tag": ["loss/.*"]}}
        assert category["chart"][1]["margin"]["series"][0] == {"value": "acc/mean", "lower": "acc/low",
                                                              "upper": "acc/high"}
        matched = tb.get_json("/data/plugin/custom_scalars/scalars", run="cs_run", tag="loss/.*")
        assert matched["regex_valid"] and set(matched["tag_to_events"]) == {"loss/train", "loss/test"}, matched

        # audio: the served WAV holds the samples written
        tags = tb.get_json("/data/plugin/audio/tags")["audio_run"]["tone"]
        assert tags["samples"] == 1
        entry = tb.get_json("/data/plugin/audio/audio", run="audio_run", tag="tone", sample=0)[0]
        assert entry["contentType"] == "audio/wav"
        with wave.open(io.BytesIO(tb.get_bytes("/data/plugin/audio/individualAudio?" + entry["query"]))) as wav:
            assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth(), wav.getnframes()) == (2, 8000, 2, 400)
            pcm = np.frombuffer(wav.readframes(400), dtype="<i2").reshape(400, 2)
        t = np.arange(400)
        left = np.float32(0.8 * np.sin(2 * np.pi * 440 * t / 8000))
        np.testing.assert_array_equal(pcm[:, 0], np.rint(left * np.float32(32767)).astype(np.int16))
        np.testing.assert_array_equal(pcm[:, 1], np.rint((left / 2) * np.float32(32767)).astype(np.int16))

        # a restart at step 5 replaced the old future
        points = tb.get_json("/data/plugin/scalars/scalars", run="resumed_run", tag="loss")
        assert [(p[1], p[2]) for p in points] == [(s, float(s if s < 5 else s + 100)) for s in range(10)], points
