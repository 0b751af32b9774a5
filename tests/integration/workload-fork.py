# SPDX-License-Identifier: MIT
# Fork while other threads allocate: the preload tests' check of the fork
# handlers in a real program. Two threads churn through small objects while
# the main thread forks four children with os.fork (each allocates, reports
# through a pipe and leaves with sys.exit, so its own exit handlers run and
# write its own TRACKALLOC_REPORT) and then runs a multiprocessing pool of
# forked workers. Prints only values independent of timing.
import multiprocessing
import os
import sys
import threading

stop = threading.Event()
churned = []


def churn(seed):
    rounds = 0
    while not stop.is_set() or rounds < 20:
        objs = [{"k": str(seed * i), "v": [i] * (i % 7)} for i in range(2000)]
        del objs
        rounds += 1
    churned.append(rounds)


def child_work(n):
    table = {str(i): [str(i)] * (i % 5) for i in range(n)}
    return sum(len(v) for v in table.values())


def fork_child(n):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        result = child_work(n)
        os.write(w, str(result).encode())
        os.close(w)
        sys.exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        result = f.read()
    _, status = os.waitpid(pid, 0)
    return int(result), os.waitstatus_to_exitcode(status)


def main():
    threads = [threading.Thread(target=churn, args=(s,)) for s in (3, 7)]
    for t in threads:
        t.start()
    for n in (1000, 5000, 20000, 40000):
        print("fork", n, *fork_child(n))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print("pool", pool.map(child_work, [3000, 6000, 9000, 12000]))
    stop.set()
    for t in threads:
        t.join()
    print("threads", len(churned), all(r >= 20 for r in churned))


if __name__ == "__main__":
    main()
