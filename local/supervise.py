"""Runs a command for exactly as long as this process's stdin stays open.

Run as `.venv/bin/python local/supervise.py -- COMMAND [ARGS...]`. The Rust side
holds the write end of our stdin; when it closes (normal shutdown, or the Rust
process dying in any way, even SIGKILL) we stop the command: SIGINT to its
process group (what Ctrl-C would send), then SIGKILL to the group after a grace
period. The command runs in a process group of its own, so only it and its
descendants are signalled. Exit code: the command's, or 0 after a stop.
"""

import os
import signal
import subprocess
import sys
import threading

GRACE_SECONDS = 10


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: supervise.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2

    stop = threading.Event()
    # Being signalled ourselves means the same as stdin closing: stop the command cleanly.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, process_group=0)

    def watch_stdin() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    while not stop.wait(0.2):
        if child.poll() is not None:
            # The command ended by itself (a function process killed, say). Leave without
            # the interpreter's shutdown, which fails on the daemon thread still blocked
            # reading stdin ("could not acquire lock for <stdin>").
            sys.stdout.flush()
            sys.stderr.flush()
            code = child.returncode
            os._exit(code if code >= 0 else 128 - code)

    _signal_group(child.pid, signal.SIGINT)
    try:
        child.wait(GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"supervise: {argv[0]} ignored SIGINT for {GRACE_SECONDS} s; killing it", file=sys.stderr)
    # Also whatever the command left behind in its group.
    _signal_group(child.pid, signal.SIGKILL)
    child.wait()
    return 0


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    sys.exit(main())
