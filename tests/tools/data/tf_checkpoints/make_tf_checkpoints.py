"""Writes the TensorFlow checkpoints under this directory (run with the project's venv:
.venv/bin/python tests/tools/data/tf_checkpoints/make_tf_checkpoints.py). README.md lists them."""
import os
import shutil

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf1 = tf.compat.v1
HERE = os.path.dirname(os.path.abspath(__file__))


def tf1_saver_checkpoint(name, k):
    """A TF1 Saver (V2 format) checkpoint of every dtype the tool prints, and two partitioned
    variables. k = 1 changes one value of most tensors (the `diff` tests list which)."""
    out = os.path.join(HERE, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    graph = tf.Graph()
    with graph.as_default():
        def var(value, name):
            return tf1.Variable(value, name=name)
        var(np.array([2**53 + 1 + k, -2**63, 2**63 - 1], np.int64), "i64")
        var(np.array([2**64 - 1, 30], np.uint64), "u64")
        var(np.array([30, -2**31], np.int32), "i32")
        var(np.array([1.5 + k, -65504, np.inf, np.nan], np.float16), "f16")
        var(tf.constant([1.5, -3.0 - k, 1e30], tf.bfloat16), "bf16")
        var(np.array([1 + 2j, -3.5j + 0.5j * k], np.complex64), "c64")
        var(np.array([1 + 2j], np.complex128), "c128")
        var(np.array([30.0, 0.1], np.float32), "f32")
        var(np.array([True, False]), "flags")
        var(tf.constant([b"hello" if k == 0 else b"hellO", b"", b"w\x00rld\xff", "\u00e9\"\n".encode()]), "strv")
        var(tf.constant([b"abc", "\u00e9".encode()]), "utf8")
        part = np.arange(40, dtype=np.float32).reshape(10, 4)
        part[8, 3] += k
        big = np.ones((200, 2), np.float32)
        big[150, 1] += 2 * k
        assigns = []
        for name, value, parts in (("part", part, 3), ("part_big", big, 2)):
            pieces = tf1.get_variable(name, shape=value.shape, initializer=tf1.zeros_initializer(),
                                      partitioner=tf1.fixed_size_partitioner(parts))
            for piece in pieces:  # each partition gets its rows of value
                begin, rows = piece._save_slice_info.var_offset[0], piece.shape[0]
                assigns.append(piece.assign(value[begin:begin + rows]))
        saver = tf1.train.Saver()
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(assigns)
            saver.save(sess, os.path.join(out, "model.ckpt"), global_step=7, write_meta_graph=False)
    os.remove(os.path.join(out, "checkpoint"))


def iterator_checkpoint():
    """A TF2 object checkpoint holding a tf.data iterator's state: a DT_VARIANT tensor."""
    out = os.path.join(HERE, "iterator")
    shutil.rmtree(out, ignore_errors=True)
    iterator = iter(tf.data.Dataset.range(5))
    next(iterator)
    checkpoint = tf.train.Checkpoint(it=iterator, v=tf.Variable([1.0, 2.0]))
    checkpoint.write(os.path.join(out, "ckpt"))


def v1_checkpoint():
    """A TF1 Saver checkpoint in the old V1 format (one table file, no .index)."""
    out = os.path.join(HERE, "v1")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    graph = tf.Graph()
    with graph.as_default():
        tf1.Variable([1.0, 2.0], name="w")
        saver = tf1.train.Saver(write_version=tf1.train.SaverDef.V1, save_relative_paths=True)
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False)


tf1_saver_checkpoint("dtypes", 0)
tf1_saver_checkpoint("dtypes_b", 1)
iterator_checkpoint()
v1_checkpoint()
