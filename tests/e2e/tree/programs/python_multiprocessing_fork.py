# multiprocessing with the fork start method: processes that exit with a code, raise, or kill
# themselves, and a pool of two workers closed and joined (not terminated).
import multiprocessing
import os
import signal
import sys


def square(x):
    return x * x


def exit_with(code):
    sys.exit(code)


def raise_error():
    raise RuntimeError("expected by the test")


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    for target, args in [(exit_with, (3,)), (raise_error, ()), (kill_self, ())]:
        p = multiprocessing.Process(target=target, args=args)
        p.start()
        p.join()
        print(p.exitcode)
    pool = multiprocessing.Pool(2)
    print(sum(pool.map(square, range(20))))
    pool.close()
    pool.join()
