"""Real TensorFlow reads the checkpoints we write, and we read the ones TensorFlow writes."""
import base64
import json
import os
import subprocess

import numpy as np
import pytest

import tensorflow as tf  # never skipped: without TensorFlow this module fails
tf1 = tf.compat.v1

ROUNDTRIP = os.environ.get("GB_CKPT_ROUNDTRIP")
TOOL = os.environ.get("GB_TOOL")


def expected_value(k, n, dtype):
    i = np.arange(n, dtype=np.float64)
    if dtype == np.int32:
        return (np.arange(n) * 3 - 1).astype(np.int32)
    if dtype == np.bool_:
        return (np.arange(n) % 2).astype(np.bool_)
    return ((i * 0.25 - 1.0) * (k + 1)).astype(dtype)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    assert ROUNDTRIP and TOOL, "GB_CKPT_ROUNDTRIP / GB_TOOL not set (run through ctest / make test)"
    d = tmp_path_factory.mktemp("ours")
    subprocess.run([ROUNDTRIP, "write", str(d)], check=True)
    return d


KNOWN = [("dense/kernel", (4, 3), np.float32), ("dense/bias", (3,), np.float32), ("counts", (5,), np.int32),
         ("precise", (2, 2), np.float64), ("flags", (4,), np.bool_)]


def test_tensorflow_reads_our_checkpoint(ours):
    assert tf.train.latest_checkpoint(str(ours)) == str(ours / "model.ckpt-42")
    listed = dict(tf.train.list_variables(str(ours)))
    assert set(listed) == {"dense/kernel", "dense/bias", "counts", "precise", "flags", "global_step", "beta1_power",
                           "beta2_power", "dense/kernel/Adam", "dense/kernel/Adam_1", "dense/bias/Adam", "dense/bias/Adam_1"}
    reader = tf.train.load_checkpoint(str(ours))
    for k, (name, shape, dtype) in enumerate(KNOWN):
        assert tuple(listed[name]) == shape
        value = reader.get_tensor(name)
        assert value.dtype == dtype and value.shape == shape, (name, value.dtype, value.shape)
        np.testing.assert_array_equal(value.reshape(-1), expected_value(k, int(np.prod(shape)), dtype), err_msg=name)
    assert reader.get_tensor("global_step") == 0 and reader.get_tensor("global_step").dtype == np.int64
    np.testing.assert_array_equal(reader.get_tensor("beta1_power"), np.float32(0.9))
    np.testing.assert_array_equal(reader.get_tensor("dense/kernel/Adam"), np.zeros((4, 3), np.float32))


def test_a_tf1_saver_restores_our_checkpoint_into_a_graph(ours):
    graph = tf.Graph()
    with graph.as_default():
        variables = []
        for name, shape, dtype in KNOWN:
            variables.append(tf1.get_variable(name, shape=shape, dtype=tf.as_dtype(dtype)))
        global_step = tf1.train.get_or_create_global_step()
        saver = tf1.train.Saver(var_list=variables + [global_step])
        with tf1.Session(graph=graph) as sess:
            saver.restore(sess, str(ours / "model.ckpt-42"))
            values = sess.run(variables + [global_step])
    for k, ((name, shape, dtype), value) in enumerate(zip(KNOWN, values)):
        np.testing.assert_array_equal(value.reshape(-1), expected_value(k, int(np.prod(shape)), dtype), err_msg=name)
    assert values[-1] == 0


def test_tensorflow_confirms_the_fact_sheet_vectors(ours):
    reader = tf.train.load_checkpoint(str(ours / "vectors-1000"))
    np.testing.assert_array_equal(reader.get_tensor("dense/bias"), np.array([0.25], np.float32))
    np.testing.assert_array_equal(reader.get_tensor("dense/kernel"), np.array([[0.5], [-1.0]], np.float32))
    assert reader.get_tensor("global_step") == 1000


def run_tool(*args):
    return subprocess.run([TOOL, "ckpt", *args], capture_output=True, text=True)


def our_restore(prefix, specs):
    out = subprocess.run([ROUNDTRIP, "restore", prefix, *specs], check=True, capture_output=True, text=True).stdout
    return {j["name"]: np.array(j["values"]) for j in map(json.loads, out.splitlines())}


def test_we_read_what_a_tf1_saver_writes(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [None, 4])
        with tf1.variable_scope("dense"):
            kernel = tf1.get_variable("kernel", [4, 3], initializer=tf1.random_normal_initializer(seed=1))
            bias = tf1.get_variable("bias", [3], initializer=tf1.constant_initializer(0.5))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, kernel) + bias))
        global_step = tf1.train.get_or_create_global_step()
        train = tf1.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
        saver = tf1.train.Saver()
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(train, {x: np.ones((2, 4), np.float32)})
            prefix = saver.save(sess, str(tmp_path / "tf1.ckpt"), global_step=global_step)
            values = dict(zip([v.op.name for v in tf1.global_variables()], sess.run(tf1.global_variables())))
    assert prefix.endswith("tf1.ckpt-1")
    listing = run_tool("ls", str(tmp_path), "--json")
    assert listing.returncode == 0, listing.stderr
    listed = {j["name"]: j for j in map(json.loads, listing.stdout.splitlines())}
    assert set(listed) == set(values), set(listed) ^ set(values)
    for name, value in values.items():
        assert listed[name]["shape"] == list(np.shape(value)), name
    verify = run_tool("verify", prefix)
    assert verify.returncode == 0 and "all checksums ok" in verify.stdout, verify.stdout + verify.stderr
    specs = [f"{name}:{tf.as_dtype(np.asarray(v).dtype).name}:{'x'.join(map(str, np.shape(v)))}" for name, v in values.items()]
    restored = our_restore(prefix, specs)
    for name, value in values.items():
        np.testing.assert_array_equal(restored[name].reshape(np.shape(value)).astype(np.asarray(value).dtype), value,
                                      err_msg=name)
    assert {"dense/kernel/Adam", "dense/kernel/Adam_1", "beta1_power", "beta2_power"} <= set(values)


def test_we_read_a_tf2_object_checkpoint(tmp_path):
    a = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
    b = tf.Variable(np.int64(7))
    checkpoint = tf.train.Checkpoint(a=a, b=b)
    prefix = checkpoint.save(str(tmp_path / "tf2"))
    listing = run_tool("ls", prefix, "--json")
    assert listing.returncode == 0, listing.stderr
    names = {j["name"] for j in map(json.loads, listing.stdout.splitlines())}
    assert {"a/.ATTRIBUTES/VARIABLE_VALUE", "b/.ATTRIBUTES/VARIABLE_VALUE", "_CHECKPOINTABLE_OBJECT_GRAPH"} <= names
    verify = run_tool("verify", prefix)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    show = run_tool("show", prefix, "a/.ATTRIBUTES/VARIABLE_VALUE", "--json")
    assert json.loads(show.stdout)["values"] == (np.arange(6).reshape(2, 3) / 4).tolist()
    restored = our_restore(prefix, ["a/.ATTRIBUTES/VARIABLE_VALUE:float32:2x3", "b/.ATTRIBUTES/VARIABLE_VALUE:int64:"])
    np.testing.assert_array_equal(restored["a/.ATTRIBUTES/VARIABLE_VALUE"], np.arange(6) / 4)
    assert restored["b/.ATTRIBUTES/VARIABLE_VALUE"].tolist() == [7]
    graph = run_tool("show", prefix, "_CHECKPOINTABLE_OBJECT_GRAPH")
    assert graph.returncode == 0, graph.stderr
    assert graph.stdout.startswith("tensor_name: _CHECKPOINTABLE_OBJECT_GRAPH (string [])\nb'"), graph.stdout
    shown = json.loads(run_tool("show", prefix, "_CHECKPOINTABLE_OBJECT_GRAPH", "--json").stdout)
    value = base64.b64decode(shown["values"]) if shown["encoding"] == "base64" else shown["values"].encode()
    assert value == tf.train.load_checkpoint(prefix).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")


def test_safetensors_export_and_import_with_the_real_package(ours, tmp_path):
    from safetensors.numpy import load_file, save_file

    out = tmp_path / "model.safetensors"
    result = run_tool("export", str(ours), "--safetensors", str(out))
    assert result.returncode == 0, result.stderr
    tensors = load_file(str(out))
    reader = tf.train.load_checkpoint(str(ours))
    assert set(tensors) == set(dict(tf.train.list_variables(str(ours))))
    for name, value in tensors.items():
        np.testing.assert_array_equal(value, reader.get_tensor(name), err_msg=name)

    written = {"layer/w": np.arange(12, dtype=np.float32).reshape(3, 4), "layer/b": np.array([1, 2], np.int64),
               "mask": np.array([True, False])}
    save_file(written, str(tmp_path / "in.safetensors"))
    result = run_tool("import", str(tmp_path / "in.safetensors"), "--to", str(tmp_path / "imported"))
    assert result.returncode == 0, result.stderr
    back = tf.train.load_checkpoint(str(tmp_path / "imported"))
    for name, value in written.items():
        np.testing.assert_array_equal(back.get_tensor(name), value, err_msg=name)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 16)
    result = run_tool("import", str(bad), "--to", str(tmp_path / "nothing"))
    assert result.returncode == 1 and "not a safetensors file" in result.stderr
    assert not (tmp_path / "nothing.index").exists()
