#!/usr/bin/env python3
"""The textbook Hadoop Streaming mapper of the inverted index, fixed only so
it runs: a line without a tab is skipped instead of crashing."""
import sys

for line in sys.stdin:
    parts = line.rstrip("\n").split("\t", 1)
    if len(parts) != 2:
        continue  # the fix: the textbook version crashes here
    doc, content = parts
    for word in content.split():
        print(f"{word.lower()}\t{doc}")
