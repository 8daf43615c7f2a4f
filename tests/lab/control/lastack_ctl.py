"""`lastack ctl` for the test clients beside it: one request, its answer printed; a refusal ends
the client with exit 10 + ctl's exit code."""
import os
import subprocess
import sys

LASTACK = os.environ["LASTACK"]


def ctl(*words):
    done = subprocess.run([LASTACK, "ctl", *words], capture_output=True, text=True)
    print("ctl", " ".join(words), "->", done.returncode, done.stdout.strip(), done.stderr.strip(), flush=True)
    if done.returncode != 0:
        sys.exit(10 + done.returncode)
    return done.stdout.strip()
