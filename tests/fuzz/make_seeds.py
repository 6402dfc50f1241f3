"""Builds the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/seed-*) from real files:
event files by another writer (../shared/testdata) and by ours, checkpoints by ours and by
TensorFlow, slices of the Fashion-MNIST IDX files. Inputs of crashes found by make fuzz go next
to them as crash-* and are never regenerated.

    make_seeds.py OUT_CORPUS_DIR EVENT_FILE... --ckpt PREFIX... [--idx DATA_DIR]
"""
import gzip
import os
import struct
import sys


def records(data):
    """Payloads of a TFRecord file (framing trusted: these are real files)."""
    at, out = 0, []
    while at + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, at)
        out.append(data[at + 12:at + 12 + n])
        at += 12 + n + 4
    return out


def put(corpus, target, name, data):
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    with open(os.path.join(corpus, target, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    args = sys.argv[1:]
    corpus = args.pop(0)
    events, ckpts, idx_dir, mode = [], [], None, "events"
    for a in args:
        if a in ("--ckpt", "--idx"):
            mode = a[2:]
        elif mode == "events":
            events.append(a)
        elif mode == "ckpt":
            ckpts.append(a)
        else:
            idx_dir = a
    blobs = [open(p, "rb").read() for p in events]
    for i, data in enumerate(blobs):
        put(corpus, "tfrecord", f"events{i}", data[:16384])
        for j, payload in enumerate(records(data)[:40]):
            if len(payload) <= 8192:
                put(corpus, "event", f"events{i}-record{j}", payload)
    for i in range(len(blobs)):
        a, b, c = blobs[i][:8192], blobs[(i + 1) % len(blobs)][:4096], blobs[(i + 2) % len(blobs)][:4096]
        for mode_byte in range(4):
            put(corpus, "events_cli", f"events{i}-mode{mode_byte}",
                bytes([mode_byte]) + struct.pack("<II", len(a), len(b)) + a + b + c)
    for i, prefix in enumerate(ckpts):
        index = open(prefix + ".index", "rb").read()
        data = open(prefix + ".data-00000-of-00001", "rb").read()
        put(corpus, "bundle", f"ckpt{i}", struct.pack("<I", len(index)) + index + data)
    if idx_dir:
        images = gzip.open(os.path.join(idx_dir, "t10k-images-idx3-ubyte.gz")).read()
        labels = gzip.open(os.path.join(idx_dir, "t10k-labels-idx1-ubyte.gz")).read()
        put(corpus, "idx", "images3", images[:4] + struct.pack(">I", 3) + images[8:16] + images[16:16 + 3 * 784])
        put(corpus, "idx", "labels20", labels[:4] + struct.pack(">I", 20) + labels[8:8 + 20])
    for name, head in (("gray", bytes([27, 27, 0, 0])), ("rgb", bytes([15, 9, 2, 0])), ("rgba_float", bytes([7, 5, 3, 1]))):
        put(corpus, "png", name, head + bytes((i * 37 + (i // 29) * 11) % 256 for i in range(600)))


if __name__ == "__main__":
    main()
