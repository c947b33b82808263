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

# One busy loop pinned to each CPU this process may use (its
# Cpus_allowed_list, e.g. 0-1 or 2,5-6): the loaded condition of
# scripts/assess-collectors.sh, whose collectors run on every CPU. Fails
# when a loop is not running.
start_busy_loop_per_cpu() {
  local list range cpu pid
  list=$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status)
  for range in ${list//,/ }; do
    for cpu in $(seq "${range%-*}" "${range#*-}"); do
      taskset -c "$cpu" sh -c 'while :; do :; done' &
      busy_loops+=($!)
    done
  done
  sleep 0.2
  for pid in "${busy_loops[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "busy loop $pid is not running" >&2; return 1; }
  done
}

stop_busy_loops() {
  [ ${#busy_loops[@]} -gt 0 ] || return 0
  kill "${busy_loops[@]}" 2>/dev/null || true
  wait "${busy_loops[@]}" 2>/dev/null || true
  busy_loops=()
}

trap stop_busy_loops EXIT
