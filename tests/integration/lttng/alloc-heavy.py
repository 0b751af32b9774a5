# SPDX-License-Identifier: MIT
"""A short allocation-heavy Python workload with deterministic output:
dicts, lists, strings, bytes, sorting, JSON, a class hierarchy, a
generator pipeline and threads. Run as `python3 alloc-heavy.py [SCALE]`."""
import hashlib
import json
import sys
import threading

SCALE = int(sys.argv[1]) if len(sys.argv) > 1 else 1


class Node:
    __slots__ = ('key', 'children', 'payload')

    def __init__(self, key, payload):
        self.key = key
        self.children = []
        self.payload = payload


def build_tree(depth, fanout, prefix=''):
    node = Node(prefix or 'root', bytearray(len(prefix) * 7 + 1))
    if depth:
        for i in range(fanout):
            node.children.append(build_tree(depth - 1, fanout, '%s/%d' % (prefix, i)))
    return node


def walk(node):
    yield node.key, len(node.payload)
    for child in node.children:
        yield from walk(child)


def words(n):
    seed = 12345
    for _ in range(n):
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        yield 'w%x' % (seed % 5000) * (1 + seed % 3)


def main():
    digest = hashlib.sha256()
    counts = {}
    for w in words(40000 * SCALE):
        counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    print('distinct words:', len(counts))
    print('top:', top)

    tree = build_tree(6, 4)
    keys = list(walk(tree))
    print('tree nodes:', len(keys), 'payload bytes:', sum(n for _, n in keys))

    doc = {'items': [{'id': i, 'name': 'item-%d' % i, 'tags': ['t%d' % (i % 7)] * (i % 4)}
                     for i in range(5000 * SCALE)]}
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    digest.update(text.encode())
    print('json bytes:', len(text), 'items:', len(back['items']))

    results = [None] * 4

    def work(k):
        local = []
        for i in range(20000 * SCALE):
            local.append(('%d:%d' % (k, i)).encode() * (1 + i % 5))
        results[k] = sum(len(b) for b in local)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('thread bytes:', results)
    blob = b''.join(str(x).encode() for x in range(30000 * SCALE))
    digest.update(blob)
    print('digest:', digest.hexdigest())


main()
