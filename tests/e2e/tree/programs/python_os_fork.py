# os.fork children ending every way a Python child can: os._exit, sys.exit through interpreter
# shutdown, exec, and a child that forks a grandchild of its own. The parent reaps each one.
import os
import sys


def fork_child(body):
    pid = os.fork()
    if pid == 0:
        body()
        os._exit(99)  # not reached
    return pid


def grandparent():
    pid = os.fork()
    if pid == 0:
        os._exit(6)
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) + 1)


children = [
    fork_child(lambda: os._exit(3)),
    fork_child(lambda: sys.exit(4)),
    fork_child(lambda: os.execv("/bin/sh", ["sh", "-c", "/bin/true; exit 5"])),
    fork_child(grandparent),
]
for pid in children:
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
