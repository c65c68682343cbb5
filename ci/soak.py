#!/usr/bin/env python3
"""The default-suite soak: the harness binary run RUNS times in a row (the
default suite, both dialects, against its embedded reference server), beside
two busy-loop CPU hogs, each run's verdicts tallied per dialect and rule.

Usage: ci/soak.py RUNS BINARY OUT_DIR   (`just soak` builds the binary first)

Writes OUT_DIR/soak.md and OUT_DIR/soak.json: per rule and dialect how many
runs gave each verdict, and per run its exit code and wall time. Exits 1 when
any run exited other than 0 or any verdict was other than pass (against the
faithful server every rule must pass), so a soak that saw one wrong verdict
cannot be mistaken for a clean one. Each run's reports stay in OUT_DIR/run-K.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict

# A run of the default suite takes a few seconds; this only keeps a stuck
# run from holding the soak (the harness's own run deadline is 300 s).
RUN_DEADLINE_S = 600


def hogs():
    """Two busy loops, one per core, in their own process group each."""
    return [
        subprocess.Popen(["sh", "-c", "while :; do :; done"], start_new_session=True)
        for _ in range(2)
    ]


def main():
    if len(sys.argv) != 4:
        print("usage: soak.py RUNS BINARY OUT_DIR", file=sys.stderr)
        return 2
    try:
        runs = int(sys.argv[1])
    except ValueError:
        runs = 0
    if runs < 1:
        print(f"soak.py: RUNS must be a whole number of at least 1, got {sys.argv[1]!r}", file=sys.stderr)
        return 2
    binary, out = sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    counts = defaultdict(Counter)
    per_run = []
    loaded = hogs()
    print(f"soak: CPU hogs {' '.join(str(h.pid) for h in loaded)}", file=sys.stderr)
    try:
        for k in range(1, runs + 1):
            reports = os.path.join(out, f"run-{k}")
            started = time.monotonic()
            done = subprocess.run(
                [binary, "--report-dir", reports],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=RUN_DEADLINE_S,
                check=False,
            )
            wall = time.monotonic() - started
            try:
                with open(os.path.join(reports, "results.json"), encoding="utf-8") as f:
                    results = json.load(f)
                rules = results["rules"]
            except (OSError, ValueError, KeyError) as e:
                rules = []
                print(f"soak: run {k}: no readable results.json ({e})", file=sys.stderr)
            troubled = []
            for rule in rules:
                verdict = rule["verdict"]
                counts[(rule["dialect"], rule["id"])][verdict] += 1
                if verdict != "pass":
                    troubled.append(f"{rule['dialect']} {rule['id']} {verdict}")
            per_run.append({"run": k, "exit_code": done.returncode, "wall_s": round(wall, 1),
                            "not_pass": troubled, "rules": len(rules)})
            print(f"soak: run {k}/{runs}: exit {done.returncode} in {wall:.1f} s"
                  + (f", not passing: {', '.join(troubled)}" if troubled else ""), file=sys.stderr)
    finally:
        for h in loaded:
            os.killpg(h.pid, signal.SIGKILL)
            h.wait()
    clean = all(r["exit_code"] == 0 and not r["not_pass"] and r["rules"] for r in per_run)
    walls = sorted(r["wall_s"] for r in per_run)
    with open(os.path.join(out, "soak.json"), "w", encoding="utf-8") as f:
        json.dump({"runs": per_run, "verdicts": {f"{d} {r}": dict(c) for (d, r), c in sorted(counts.items())},
                   "clean": clean}, f, indent=2)
        f.write("\n")
    lines = [
        "# Default-suite soak",
        "",
        f"The default suite (both dialects, the embedded reference server) run {runs} times in a row "
        f"beside two busy-loop CPU hogs (`just soak`). Wall per run: min {walls[0]} s, "
        f"median {walls[len(walls) // 2]} s, max {walls[-1]} s. "
        f"Exit 0 in {sum(r['exit_code'] == 0 for r in per_run)} of {runs} runs.",
        "",
        "| api | rule | verdicts over the runs |",
        "|---|---|---|",
    ]
    for (dialect, rule), c in sorted(counts.items()):
        cell = ", ".join(f"{v} {n}" for v, n in sorted(c.items(), key=lambda x: -x[1]))
        lines.append(f"| {dialect} | {rule} | {cell} |")
    with open(os.path.join(out, "soak.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"soak: {'clean' if clean else 'NOT clean'}; written to {out}/soak.md", file=sys.stderr)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
