"""A real `tensorboard` process on a free loopback port, always stopped afterwards."""
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TensorBoard:
    def __init__(self, port, process, log_path):
        self.port = port
        self.process = process
        self.log_path = log_path

    def url(self, path, **query):
        q = ("?" + urllib.parse.urlencode(query)) if query else ""
        return f"http://127.0.0.1:{self.port}{path}{q}"

    def get_bytes(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return response.read()

    def get_json(self, path, **query):
        with urllib.request.urlopen(self.url(path, **query), timeout=30) as response:
            return json.loads(response.read().decode("utf-8"))

    def child_commands(self):
        """Command lines of the server's child processes (the Rust data server with load_fast)."""
        commands = []
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = f.read().split()
        except OSError:
            return commands
        for child in children:
            try:
                with open(f"/proc/{child}/cmdline", "rb") as f:
                    commands.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
        return commands

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for(self, predicate, what, timeout=120):
        """Polls predicate() (which may raise while the server warms up) until it is true."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"tensorboard exited ({self.process.returncode}):\n{self.log()}")
            try:
                result = predicate()
                if result:
                    return result
            except (urllib.error.URLError, ConnectionError, OSError, ValueError) as e:
                last_error = e
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what} (last error: {last_error}):\n{self.log()}")


@contextlib.contextmanager
def tensorboard(logdir, load_fast, log_dir, extra_args=()):
    """Starts `tensorboard --logdir logdir --load_fast=<load_fast>` and stops it on exit."""
    tb = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    for attempt in range(5):
        port = free_port()
        log_path = os.path.join(log_dir, f"tensorboard-{load_fast}-{port}.log")
        log = open(log_path, "w")
        args = [tb, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port),
                f"--load_fast={load_fast}", "--samples_per_plugin", "scalars=100000",
                "--reload_interval", "1", *extra_args]
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = TensorBoard(port, process, log_path)
        try:
            server.wait_for(lambda: server.get_json("/data/environment") is not None, "the HTTP server", 90)
        except AssertionError:
            stop(process)
            log.close()
            if "already in use" in server.log() and attempt < 4:
                continue  # another process took the port between our probe and its bind
            raise
        try:
            yield server
        finally:
            stop(process)
            log.close()
        return


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_json(tb, path, body):
    """POSTs body as JSON to a running TensorBoard and returns the decoded answer."""
    request = urllib.request.Request(tb.url(path), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
