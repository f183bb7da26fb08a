"""CPython reference: ProcessPoolExecutor with 2 workers on the benchmark's workload.

submit: 20,000 tiny tasks, all submitted, then all awaited; map: 200,000 items with chunksize=1000.
One warm-up round each, then ROUNDS timed rounds. Prints one JSON line, as the TypeScript scenarios do.
"""

import json
import multiprocessing
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def inc(x):
    return x + 1


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tasks, items, chunksize = 20_000, 200_000, 1000
    xs = list(range(tasks))
    all_items = list(range(items))
    expected_submit = tasks * (tasks + 1) // 2
    expected_map = items * (items + 1) // 2

    def submit_round():
        futures = [pool.submit(inc, x) for x in xs]
        if sum(f.result() for f in futures) != expected_submit:
            raise RuntimeError("wrong submit results")

    def map_round():
        if sum(pool.map(inc, all_items, chunksize=chunksize)) != expected_map:
            raise RuntimeError("wrong map results")

    submit, mapped = [], []
    with ProcessPoolExecutor(max_workers=2) as pool:
        for samples, body, n in ((submit, submit_round, tasks), (mapped, map_round, items)):
            body()  # warm-up
            for _ in range(rounds):
                start = time.perf_counter()
                body()
                samples.append(n / (time.perf_counter() - start))
    print(json.dumps({
        "scenario": "cpython",
        "runtime": "python",
        "version": platform.python_version(),
        "startMethod": multiprocessing.get_start_method(),
        "tasks": tasks,
        "items": items,
        "chunksize": chunksize,
        "submit": submit,
        "map1000": mapped,
    }))


if __name__ == "__main__":
    main()
