"""TensorBoard's own Python reader over the event file bench_writer wrote, for the reader ratios
in `make bench`: the first MAX events of it, parsed with their scalar values taken out (what
TensorBoard's loader does), and the raw records alone. Prints "name value unit" lines.
    bench_python_readers.py EVENT_FILE MAX
"""
import itertools
import sys
import time

from tensorboard.backend.event_processing import event_file_loader


def timed(loader, limit, use):
    start = time.perf_counter()
    n = 0
    for item in itertools.islice(loader.Load(), limit):
        use(item)
        n += 1
    return n, time.perf_counter() - start


def main():
    path, limit = sys.argv[1], int(sys.argv[2])
    total = [0.0]

    def take_values(event):
        for value in event.summary.value:
            if value.tensor.float_val:
                total[0] += value.tensor.float_val[0]

    n, t = timed(event_file_loader.EventFileLoader(path), limit, take_values)
    print(f"tb_event_loader {n / t:.0f} events/s (tensorboard EventFileLoader, {n} events parsed, values taken)")
    n, t = timed(event_file_loader.RawEventFileLoader(path), limit, lambda record: None)
    print(f"tb_raw_loader {n / t:.0f} records/s (tensorboard RawEventFileLoader, {n} records)")


if __name__ == "__main__":
    main()
