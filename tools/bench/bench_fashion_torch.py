"""PyTorch (eager, CPU) training fashion_mnist's default model, for the epoch-time ratio in `make bench`.

The same MLP 784-384-192-10 with ReLU and dropout 0.2, Adam (lr 1e-3, cosine decay per step), batch
128, shuffled each epoch, the last partial batch dropped, as examples/fashion_mnist does. The
images are converted to float once up front (torch's usual way), so the timed loop is the
training alone; ours converts each batch inside its epoch time. Prints "epoch_seconds S" (the
best of the epochs) and the test accuracy reached.
    bench_fashion_torch.py DATA_DIR EPOCHS
"""
import gzip
import math
import os
import sys
import time

import numpy as np
import torch


def idx(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def main():
    data, epochs = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    torch.manual_seed(1)
    x = torch.from_numpy(idx(f"{data}/train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
    y = torch.from_numpy(idx(f"{data}/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    tx = torch.from_numpy(idx(f"{data}/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
    ty = torch.from_numpy(idx(f"{data}/t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 384), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(384, 192), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(192, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch, steps = 128, len(x) // 128
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps * epochs)
                                                                                / (steps * epochs))))
    loss_fn = torch.nn.CrossEntropyLoss()
    best = float("inf")
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x))
        t0 = time.perf_counter()
        for i in range(steps):
            idx_b = order[i * batch:(i + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx_b]), y[idx_b])
            loss.backward()
            opt.step()
            sched.step()
        best = min(best, time.perf_counter() - t0)
        model.eval()
        with torch.no_grad():
            accuracy = (model(tx).argmax(1) == ty).float().mean().item()
    print(f"torch_version {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"epoch_seconds {best:.3f}")
    print(f"test_accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
