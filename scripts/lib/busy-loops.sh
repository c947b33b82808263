# shellcheck shell=bash
# Busy loops for the loaded conditions: start_busy_loops pins two to CPU 0,
# start_busy_loop_per_cpu one to each CPU, stop_busy_loops ends them. An EXIT trap ends any still running, so an
# interrupted or failed script leaves no loop behind on a shared machine.
busy_loops=()

start_busy_loops() {
  local _
  for _ in 1 2; do
    taskset -c 0 sh -c 'while :; do :; done' &
    busy_loops+=($!)
  done
}

# One busy loop pinned to each CPU: the loaded condition of
# scripts/assess-collectors.sh, whose collectors run on every CPU.
start_busy_loop_per_cpu() {
  local cpu
  for cpu in $(seq 0 $(($(nproc) - 1))); do
    taskset -c "$cpu" sh -c 'while :; do :; done' &
    busy_loops+=($!)
  done
}

stop_busy_loops() {
  [ ${#busy_loops[@]} -gt 0 ] || return 0
  kill "${busy_loops[@]}" 2>/dev/null || true
  wait "${busy_loops[@]}" 2>/dev/null || true
  busy_loops=()
}

trap stop_busy_loops EXIT
