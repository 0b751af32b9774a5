# SPDX-License-Identifier: MIT
# Allocation-heavy Python workload for the preload tests: many small objects,
# dicts, lists, strings, a producer/consumer pair of threads (blocks freed on
# another thread than the one that allocated them). Prints only values that
# are independent of addresses, hash seeds and timing.
import hashlib
import json
import queue
import threading


class Node:
    def __init__(self, key, value):
        self.key = key
        self.value = value
        self.children = []


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def lcg(seed):
    while True:
        seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield seed >> 33


def build_tree(rnd, count):
    root = Node("root", 0)
    nodes = [root]
    for i in range(count):
        parent = nodes[next(rnd) % len(nodes)]
        child = Node("n%d" % i, next(rnd) % 1000)
        parent.children.append(child)
        nodes.append(child)
    return root, nodes


def tree_sum(node):
    total, stack = 0, [node]
    while stack:
        n = stack.pop()
        total += n.value
        stack.extend(n.children)
    return total


def words(rnd, count):
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(alphabet[next(rnd) % 26] for _ in range(3 + next(rnd) % 9))
            for _ in range(count)]


def producer_consumer(items):
    q = queue.Queue(maxsize=256)
    result = {}

    def produce():
        for i in range(items):
            q.put({"id": i, "payload": ("x%d" % i) * (1 + i % 7), "tags": [i, i * 2]})
        q.put(None)

    def consume():
        total = 0
        while True:
            item = q.get()
            if item is None:
                break
            total += item["id"] + len(item["payload"]) + sum(item["tags"])
        result["total"] = total

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result["total"]


def main():
    rnd = lcg(42)
    digest = hashlib.sha256()

    root, nodes = build_tree(rnd, 60000)
    print("tree nodes", len(nodes), "sum", tree_sum(root))
    del root, nodes

    ws = words(rnd, 50000)
    counts = {}
    for w in ws:
        counts[w[:2]] = counts.get(w[:2], 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    print("prefixes", len(counts), "top", top)

    text = " ".join(ws)
    upper = text.upper().split()
    joined = ",".join(sorted(set(upper)))
    digest.update(joined.encode())
    print("distinct words", len(set(upper)), "text length", len(text))

    points = [Point(i % 317, (i * 7) % 211) for i in range(100000)]
    print("points", sum(p.x * p.y for p in points) % 1000003)
    del points

    table = {("k", i): [str(i)] * (i % 5) for i in range(40000)}
    for i in range(0, 40000, 3):
        del table[("k", i)]
    print("table", len(table), sum(len(v) for v in table.values()))

    doc = [{"name": w, "len": len(w), "chars": sorted(set(w))} for w in ws[:20000]]
    blob = json.dumps(doc, sort_keys=True)
    back = json.loads(blob)
    digest.update(blob.encode())
    print("json", len(blob), len(back), back[123]["name"])

    print("threads", producer_consumer(20000))
    print("digest", digest.hexdigest())


main()
