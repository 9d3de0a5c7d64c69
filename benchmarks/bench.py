"""Index build, load, memory and query latency at 1e4-1e6 sentences, beside rank_bm25 and bm25s.

    python benchmarks/bench.py [--sizes 10000 100000 1000000] [--queries 200] [--peers-up-to 100000]

Each measurement runs in its own process, so resident memory and start-up are that engine's alone.
Corpora and indexes go to benchmarks/out/ (git-ignored) and corpora are reused between runs; every
run rebuilds the indexes from scratch. See benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
SEED = 20240607
TOP_K = 10
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from synthetic import dictionary, generate  # noqa: E402


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_mb() -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99))}


def queries(count: int) -> list[str]:
    """Questions of 2-6 dictionary words, drawn by frequency with a fixed seed."""
    words, probabilities = dictionary()
    rng = np.random.default_rng(SEED + 1)
    return [
        "".join(words[i] for i in rng.choice(len(words), size=rng.integers(2, 7), p=probabilities))
        for _ in range(count)
    ]


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# --- measurements, each run in a child process -------------------------------------------------


def measure_build(corpus: Path, index_path: Path) -> dict[str, object]:
    """Full build from an empty index folder, then one report changed, added and removed."""
    from index.build import build_index

    shutil.rmtree(index_path, ignore_errors=True)
    started = time.perf_counter()
    summary = build_index(corpus, index_path)
    result: dict[str, object] = {
        "build_s": time.perf_counter() - started,
        "sentences": summary.sentences,
        "terms": summary.terms,
        "build_peak_mb": peak_mb(),
        "index_mb": folder_mb(summary.build_dir),
        "cache_mb": folder_mb(index_path / "cache"),
    }
    victim = sorted(corpus.rglob("*.txt"))[0]
    original = victim.read_bytes()
    added = corpus / "added" / "report_added.txt"
    steps = {
        "change": lambda: victim.write_bytes(original + "新增一句:疫苗接种有序推进。\n".encode()),
        "add": lambda: (added.parent.mkdir(exist_ok=True), added.write_bytes(original)),
        "remove": added.unlink,
    }
    for name, step in steps.items():
        step()
        started = time.perf_counter()
        summary = build_index(corpus, index_path)
        result[f"{name}_s"] = time.perf_counter() - started
        result[f"{name}_analysed"] = summary.analysed
    added.parent.rmdir()
    victim.write_bytes(original)
    build_index(corpus, index_path)  # leave the index fresh for the other measurements
    return result


def measure_start(corpus: Path, index_path: Path, started: float) -> dict[str, object]:
    """From the process's start to its first answer, opening the index as `reports-bot run` and
    `chat` do: the corpus folder checked for changes while the index loads and jieba warms up."""
    from index.freshness import open_serving

    live, _ = open_serving(corpus, index_path)
    live.current().search("疫情防控工作")
    return {"first_answer_s": time.time() - started}


def measure_engine(index_path: Path, count: int) -> dict[str, object]:
    """This engine as the bot runs it: the load alone, then latency over ``count`` questions."""
    from index.text.analyzer import Analyzer
    from index.search import Searcher

    analyzer = Analyzer()
    opened = time.perf_counter()
    searcher = Searcher.open(index_path, analyzer)
    load_s = time.perf_counter() - opened
    analyzer.warm_up()
    searcher.search("疫情防控工作")
    load_rss = rss_mb()
    postings = searcher._stored.postings  # the engine itself, below the answer's formatting

    def weighted(terms: list[str]) -> list[tuple[int, float]]:
        counts: dict[str, float] = {}
        for term in terms:
            counts[term] = counts.get(term, 0.0) + 1.0
        ids = postings.term_ids(counts)
        return [(i, w) for i, w in zip(ids, counts.values()) if i is not None]

    texts = queries(count)
    tokens = [analyzer.query_terms(q) for q in texts]
    plans = [weighted(t) for t in tokens]
    excluded, included, answers = [], [], []
    for text, plan in zip(texts, plans):
        t0 = time.perf_counter()
        postings.best(plan, TOP_K)
        t1 = time.perf_counter()
        postings.best(weighted(analyzer.query_terms(text)), TOP_K)
        t2 = time.perf_counter()
        searcher.search(text)
        t3 = time.perf_counter()
        excluded.append(t1 - t0)
        included.append(t2 - t1)
        answers.append(t3 - t2)
    return {
        "load_s": load_s,
        "load_rss_mb": load_rss,
        "steady_rss_mb": rss_mb(),
        "peak_mb": peak_mb(),
        "query_excl": percentiles(excluded),
        "query_incl": percentiles(included),
        "answer": percentiles(answers),
    }


def measure_batch(corpus: Path, index_path: Path, count: int) -> dict[str, object]:
    """``search --json`` as a script uses it, questions on stdin: the cost of a question after
    start-up is the difference between ``count`` questions and one, over ``count - 1``."""
    env = {**os.environ, "REPORTS_BOT_CORPUS_DIR": str(corpus)}
    command = [sys.executable, "-m", "bot.cli", "search", "--json", "--index", str(index_path)]

    def seconds(questions: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(command, input="\n".join(questions) + "\n", capture_output=True,
                       text=True, check=True, cwd=ROOT, env=env)
        return time.perf_counter() - started

    texts = queries(count)
    one = min(seconds(texts[:1]) for _ in range(3))
    return {"batch_ms": (seconds(texts) - one) / (count - 1) * 1000}


def sentence_tokens(index_path: Path) -> list[list[str]]:
    """Every sentence's terms (as a bag: BM25 ignores order), read back from the built index."""
    from index.store.storage import StoredIndex, live_build

    p = StoredIndex(live_build(index_path)).postings
    term_of = np.repeat(np.arange(p.term_count), np.diff(p.offsets))
    order = np.argsort(np.asarray(p.docs), kind="stable")
    by_doc = np.repeat(term_of[order], np.asarray(p.tfs)[order].astype(np.int64))
    names = p.terms
    ends = np.cumsum(np.asarray(p.doc_len, dtype=np.int64))
    words = [names[i] for i in by_doc.tolist()]
    return [words[s:e] for s, e in zip(np.concatenate([[0], ends[:-1]]).tolist(), ends.tolist())]


def measure_peer(engine: str, index_path: Path, count: int) -> dict[str, object]:
    """rank_bm25 or bm25s on exactly the terms this engine indexed, with the same queries."""
    from index.text.analyzer import Analyzer

    corpus = sentence_tokens(index_path)
    analyzer = Analyzer()
    analyzer.warm_up()
    before = rss_mb()
    started = time.perf_counter()
    if engine == "rank_bm25":
        from rank_bm25 import BM25Okapi

        model = BM25Okapi(corpus)

        def search(terms: list[str]) -> object:
            scores = model.get_scores(terms)
            return np.argpartition(-scores, TOP_K)[:TOP_K]

    else:
        import bm25s

        model = bm25s.BM25(method="robertson")
        model.index(corpus, show_progress=False)

        def search(terms: list[str]) -> object:
            return model.retrieve([terms], k=TOP_K, show_progress=False, n_threads=1)

    build_s = time.perf_counter() - started
    del corpus
    texts = queries(count)
    tokens = [analyzer.query_terms(q) for q in texts]
    excluded, included = [], []
    for text, terms in zip(texts, tokens):
        t0 = time.perf_counter()
        search(terms)
        t1 = time.perf_counter()
        search(analyzer.query_terms(text))
        t2 = time.perf_counter()
        excluded.append(t1 - t0)
        included.append(t2 - t1)
    return {
        "build_s": build_s,
        "index_rss_mb": rss_mb() - before,
        "steady_rss_mb": rss_mb(),
        "peak_mb": peak_mb(),
        "query_excl": percentiles(excluded),
        "query_incl": percentiles(included),
    }


def child(args: argparse.Namespace) -> None:
    index_path = Path(args.index)
    if args.child == "build":
        result = measure_build(Path(args.corpus), index_path)
    elif args.child == "engine":
        result = measure_engine(index_path, args.queries)
    elif args.child == "start":
        result = measure_start(Path(args.corpus), index_path, args.started)
    else:
        result = measure_peer(args.child, index_path, args.queries)
    print(json.dumps(result))


def run_child(mode: str, corpus: Path, index_path: Path, count: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", mode, "--corpus", str(corpus),
               "--index", str(index_path), "--queries", str(count)]
    command += ["--started", repr(time.time())]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the table -----------------------------------------------------------------------------------


def table(rows: list[tuple[str, str, dict[str, object]]]) -> str:
    head = ("| sentences | engine | build s | index MB | load s | start to first answer s "
            "| steady / peak RSS MB | query p50 / p99 ms (tokenizing incl.) "
            "| query p50 / p99 ms (excl.) | bot answer p50 / p99 ms | search --json ms/question |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for size, engine, r in rows:
        def pq(key: str) -> str:
            value = r.get(key)
            return f"{value['p50']:.2f} / {value['p99']:.2f}" if isinstance(value, dict) else "-"

        def num(key: str, fmt: str = "{:.1f}") -> str:
            value = r.get(key)
            return fmt.format(value) if isinstance(value, (int, float)) else "-"

        lines.append(
            f"| {size} | {engine} | {num('build_s')} | {num('index_mb', '{:.0f}')} "
            f"| {num('load_s', '{:.3f}')} | {num('first_answer_s', '{:.2f}')} "
            f"| {num('steady_rss_mb', '{:.0f}')} / {num('peak_mb', '{:.0f}')} "
            f"| {pq('query_incl')} | {pq('query_excl')} | {pq('answer')} "
            f"| {num('batch_ms', '{:.2f}')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--peers-up-to", type=int, default=100_000,
                        help="run rank_bm25 and bm25s up to this many sentences (slower beyond)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure an index already built for a size instead of building it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    rows: list[tuple[str, str, dict[str, object]]] = []
    for size in args.sizes:
        corpus = generate(OUT / "corpora", size, SEED, ROOT / "corpus")
        index_path = OUT / "index" / str(size)
        if args.reuse and (index_path / "current").exists():
            built: dict[str, object] = {"index_mb": folder_mb(index_path / "current")}
        else:
            built = run_child("build", corpus, index_path, args.queries)
        print(f"{size}: build {json.dumps(built)}", flush=True)
        served = {**run_child("engine", corpus, index_path, args.queries),
                  **run_child("start", corpus, index_path, args.queries),
                  **measure_batch(corpus, index_path, args.queries)}
        print(f"{size}: engine {json.dumps(served)}", flush=True)
        rows.append((f"{size:.0e}", "reports-bot", {**built, **served}))
        incremental = {k: v for k, v in built.items() if k.split("_")[0] in ("change", "add", "remove")}
        print(f"{size}: incremental {json.dumps(incremental)}", flush=True)
        for peer in ("rank_bm25", "bm25s"):
            if size > args.peers_up_to:
                print(f"{size}: {peer} skipped (above --peers-up-to)", flush=True)
                continue
            result = run_child(peer, corpus, index_path, args.queries)
            print(f"{size}: {peer} {json.dumps(result)}", flush=True)
            rows.append((f"{size:.0e}", peer, result))
    print(table(rows))


if __name__ == "__main__":
    main()
