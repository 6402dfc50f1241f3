"""PyTorch (eager, CUDA) on the workloads of bench_cuda, for the ratios in tools/gpu/run_checks.sh.

Prints "name value unit" lines like bench_cuda. Each step ends with torch.cuda.synchronize(), as
each of gradboard's session runs ends with the GPU idle.
"""
import sys
import time

import torch


def step_flops(widths, batch):
    flops = 0.0
    for layer in range(1, len(widths)):
        flops += 2.0 * batch * widths[layer - 1] * widths[layer] * (2 if layer == 1 else 3)
    return flops


def set_tf32(enabled):
    # PyTorch 2.9 and later: fp32_precision; mixing it with the older allow_tf32 flags is an error
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        matmul.fp32_precision = "tf32" if enabled else "ieee"
    else:
        matmul.allow_tf32 = enabled


def mlp_step(widths, batch, make_opt, tf32, warmup, steps):
    set_tf32(tf32)
    torch.manual_seed(0)
    layers = []
    for i in range(1, len(widths)):
        layers.append(torch.nn.Linear(widths[i - 1], widths[i]))
        if i < len(widths) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).cuda()
    opt = make_opt(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, widths[0], device="cuda")
    y = torch.arange(batch, device="cuda") % widths[-1]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        torch.cuda.synchronize()

    for _ in range(warmup):
        step()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def main():
    quick = "--quick" in sys.argv
    only = next((a for a in sys.argv[1:] if not a.startswith("--")), None)
    print(f"torch_version {torch.__version__} ({torch.cuda.get_device_name()})")
    if only in (None, "small"):
        t = mlp_step([784, 256, 128, 10], 128, lambda p: torch.optim.Adam(p, lr=1e-3), False, 20, 200 if quick else 2000)
        print(f"cuda_mlp_small_adam {t * 1e3:.4f} ms per step (batch 128)")
    if only in (None, "big"):
        widths = [8192, 8192, 8192, 10]
        for tf32 in (False, True):
            t = mlp_step(widths, 8192, lambda p: torch.optim.SGD(p, lr=0.01), tf32, 2, 3 if quick else 10)
            name = "cuda_mlp_big_sgd_tf32" if tf32 else "cuda_mlp_big_sgd"
            print(f"{name} {step_flops(widths, 8192) / t * 1e-12:.2f} TFLOP/s ({t * 1e3:.1f} ms per step, batch 8192)")


if __name__ == "__main__":
    main()
