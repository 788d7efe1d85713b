"""The sandboxed child's syscall filter (graders.seccomp.install_syscall_filter), installed in a
fresh interpreter: what it refuses (with EPERM, or ENOSYS for clone3), and what a numpy
submission still needs (threads, files in its folder, BLAS). Judged here, probed in the child
process, whose answers come back as JSON on stdout.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REQUIRE_SANDBOX_ENV, REPO, skip_or_fail

PROBE = r"""
import ctypes, errno, json, os, socket, subprocess, sys, tempfile, threading
import numpy as np
sys.path.insert(0, sys.argv[1])
from graders.seccomp import install_syscall_filter

libc = ctypes.CDLL(None, use_errno=True)
def refused(fn):
    try:
        fn()
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return "allowed"

def syscall(name, *args):
    number = ctypes.CDLL("libseccomp.so.2").seccomp_syscall_resolve_name(name.encode())
    def call():
        if libc.syscall(number, *args) == -1:
            raise OSError(ctypes.get_errno(), name)
    return call

state = {"filter": install_syscall_filter()}
box = tempfile.mkdtemp()
state["socket_unix"] = refused(lambda: socket.socket(socket.AF_UNIX))
state["socket_inet"] = refused(lambda: socket.socket())
state["fork"] = refused(os.fork)
state["subprocess"] = refused(lambda: subprocess.run(["/bin/true"]))
state["keyctl"] = refused(syscall("keyctl", 0, -3, 0))  # KEYCTL_GET_KEYRING_ID of the session keyring
state["add_key"] = refused(syscall("add_key", b"user", b"bpk", b"x", 1, -4))
state["unshare"] = refused(syscall("unshare", 0x10000000))  # CLONE_NEWUSER
state["clone3"] = refused(syscall("clone3", 0, 0))
state["setsid"] = refused(os.setsid)
state["clear_death_signal"] = refused(syscall("prctl", 1, 0, 0, 0, 0))  # PR_SET_PDEATHSIG
state["shmget"] = refused(syscall("shmget", 0, 4096, 0o1600))  # IPC_PRIVATE, IPC_CREAT | 0600
state["memfd_create"] = refused(syscall("memfd_create", b"bpk", 0))
seen = []
worker = threading.Thread(target=lambda: seen.append(float(np.ones((64, 64)) @ np.ones(64) @ np.ones(64))))
worker.start(); worker.join()
state["thread"] = seen
with open(os.path.join(box, "f.txt"), "w") as fh:
    state["write"] = fh.write("ok")
print(json.dumps(state))
"""


@pytest.fixture(scope="module")
def filtered():
    proc = subprocess.run([sys.executable, "-c", PROBE, str(REPO)], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = json.loads(proc.stdout.splitlines()[-1])
    if not state["filter"].startswith("seccomp"):
        skip_or_fail(f"no syscall filter here: {state['filter']}", require=REQUIRE_SANDBOX_ENV)
    return state


@pytest.mark.parametrize("what", ["socket_unix", "socket_inet", "fork", "subprocess", "keyctl", "add_key", "unshare",
                                  "setsid", "clear_death_signal", "shmget", "memfd_create"])
def test_filter_refuses_with_eperm(filtered, what):
    assert filtered[what] == "EPERM"


def test_filter_answers_clone3_with_enosys_so_the_c_library_falls_back_to_clone(filtered):
    assert filtered["clone3"] == "ENOSYS"


def test_filter_keeps_threads_blas_and_files(filtered):
    assert filtered["thread"] == [64.0 * 64]  # ones(64, 64) @ ones(64) @ ones(64)
    assert filtered["write"] == 2
