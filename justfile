# The front door: each recipe is one command. `just` alone lists them.

# List the recipes.
default:
    @just --list

# Run the conformance suite against the bundled reference server.
run *ARGS:
    cargo run -p oms-conformance -- {{ARGS}}

# Start the reference server as a local OMS emulator on 127.0.0.1:8080.
serve *ARGS:
    cargo run -p oms-reference-server -- {{ARGS}}

# Run every test (what CI runs).
test:
    cargo test --workspace --locked

# Run the benchmarks and print their figures.
bench:
    cargo bench --workspace --locked --benches

# Run the kill matrix RUNS times in a row beside two CPU hogs; writes target/conformance/kill-matrix/kill-matrix-stability.md.
kill-matrix-soak RUNS="20":
    #!/usr/bin/env bash
    # The one recipe that is a script, not one command: the two hogs need a trap
    # that kills exactly their pids on exit, on failure and on interrupt.
    set -euo pipefail
    hogs=()
    trap 'kill "${hogs[@]}" 2>/dev/null || true' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    for _ in 1 2; do sh -c 'while :; do :; done' & hogs+=("$!"); done
    echo "kill-matrix-soak: CPU hogs ${hogs[*]}" >&2
    OMS_KILL_MATRIX_RUNS={{RUNS}} cargo test -p oms-conformance --test it faults:: -- --nocapture

# Run the default suite RUNS times beside two CPU hogs, then the kill matrix MATRICES times (kill-matrix-soak); writes target/conformance/soak/soak.md.
soak RUNS="50" MATRICES="20":
    cargo build -p oms-conformance --locked
    python3 ci/soak.py {{RUNS}} target/debug/oms-conformance target/conformance/soak
    just kill-matrix-soak {{MATRICES}}

# Build the user guide into docs/book (mdBook: `pip install -r docs/requirements.txt`).
docs:
    mdbook build docs

# Format the code.
fmt:
    cargo fmt --all

# Lint everything, warnings as errors (the workspace, then the fault-free server on its own).
lint:
    cargo clippy --workspace --all-targets --locked -- -D warnings
    cargo clippy -p oms-reference-server --all-targets --locked -- -D warnings

# Build the registry-free emulator image oms-reference-server:local (static binary on scratch, no fault injection).
image:
    RUSTFLAGS="-C target-feature=+crt-static -C strip=debuginfo" CARGO_TARGET_DIR=target/image cargo build --release --locked --target x86_64-unknown-linux-gnu -p oms-reference-server
    docker build -q -t oms-reference-server:local -f crates/oms-reference-server/Dockerfile .

# Build oms-reference-server:faults, the same image with fault injection compiled in (off unless OMS_FAULT is set), to prove the kit.
image-faults:
    RUSTFLAGS="-C target-feature=+crt-static -C strip=debuginfo" CARGO_TARGET_DIR=target/image cargo build --release --locked --target x86_64-unknown-linux-gnu -p oms-reference-server --features faults
    docker build -q -t oms-reference-server:faults -f crates/oms-reference-server/Dockerfile .

# Build the registry-free harness image oms-conformance:local (static binary on scratch, reports in the mounted /reports).
harness-image:
    RUSTFLAGS="-C target-feature=+crt-static -C strip=debuginfo" CARGO_TARGET_DIR=target/image cargo build --release --locked --target x86_64-unknown-linux-gnu -p oms-conformance
    docker build -q -t oms-conformance:local -f crates/oms-conformance/Dockerfile .
