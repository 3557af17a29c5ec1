#!/usr/bin/env python3
"""Proof that index-map and index-reduce work as the mapper and reducer of a
real Hadoop Streaming job: an mrjob job whose mapper_cmd and reducer_cmd are
`cloudfn stream map|reduce`, run by mrjob's local runner (a real
sort-and-shuffle between the phases, several map and reduce tasks), compared
with the index built in one process (`cloudfn stream map | LC_ALL=C sort |
cloudfn stream reduce`). Run by hand, not in CI:

    pip install mrjob
    cargo build --release -p cloudfn
    cargo build --release --target wasm32-wasip2 -p index-map -p index-reduce
    python3 scripts/mrjob-index.py [CORPUS]     # default: a corpus made from /usr/share/doc

Exits non-zero when the two indexes differ.
"""
import glob
import gzip
import os
import subprocess
import sys
import tempfile

from mrjob.job import MRJob

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLOUDFN = os.path.join(ROOT, "target/release/cloudfn")
WASM = os.path.join(ROOT, "target/wasm32-wasip2/release")


class CloudfnInvertedIndex(MRJob):
    """Both phases are cloudfn components in stream mode."""

    def mapper_cmd(self):
        return f"{CLOUDFN} stream map {WASM}/index_map.wasm"

    def reducer_cmd(self):
        return f"{CLOUDFN} stream reduce {WASM}/index_reduce.wasm"


def default_corpus(path, limit=20_000):
    """One document per line: changelogs and READMEs from /usr/share/doc."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for name in sorted(glob.glob("/usr/share/doc/**/*", recursive=True)):
            if count >= limit or not os.path.isfile(name):
                continue
            try:
                opener = gzip.open if name.endswith(".gz") else open
                with opener(name, "rt", encoding="utf-8", errors="replace") as f:
                    for i, line in enumerate(f):
                        text = line.strip().replace("\t", " ")
                        if text:
                            out.write(f"{name}:{i}\t{text}\n")
                            count += 1
            except OSError:
                continue
    return count


def main():
    with tempfile.TemporaryDirectory() as work:
        corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(work, "corpus.txt")
        if len(sys.argv) <= 1:
            print(f"corpus: {default_corpus(corpus)} documents from /usr/share/doc")
        out_dir = os.path.join(work, "mrjob-out")
        job = CloudfnInvertedIndex(["-r", "local", "--num-cores", "2", "--output-dir", out_dir, "--no-cat-output", corpus])
        with job.make_runner() as runner:
            runner.run()
        via_mrjob = []
        for part in sorted(glob.glob(os.path.join(out_dir, "part-*"))):
            with open(part, encoding="utf-8") as f:
                via_mrjob.extend(f.read().splitlines())
        via_mrjob.sort()

        pipeline = (
            f"{CLOUDFN} stream map {WASM}/index_map.wasm < {corpus} | LC_ALL=C sort | "
            f"{CLOUDFN} stream reduce {WASM}/index_reduce.wasm"
        )
        in_process = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], check=True,
                                    capture_output=True, text=True).stdout.splitlines()
        in_process.sort()

    same = via_mrjob == in_process
    print(f"mrjob local runner: {len(via_mrjob)} index lines; cloudfn pipeline: {len(in_process)}; identical: {same}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
