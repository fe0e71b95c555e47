#!/usr/bin/env bash
# The long property runs: each reader and view target for ten million
# cases, the rule loader (about 28 ms a case) for thirty minutes of
# rounds. Prints one line a round: target, cases, seconds, result.
# Usage: bash tests/fuzz_seeds/long-run.sh [MINUTES_FOR_RULE_LOADER]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(cargo test --release --test fuzz --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*fuzz-[^"]*"' | tail -1 | cut -d'"' -f4)
round() { # target cases
  local t0 t1
  t0=$(date +%s.%N)
  if FUZZ_CASES=$2 "$bin" "$1" --exact >/tmp/fuzz-round.log 2>&1; then r=ok; else r=FAILED; fi
  t1=$(date +%s.%N)
  printf '%s\t%s\t%.0f\t%s\n' "$1" "$2" "$(echo "$t1 - $t0" | bc)" "$r"
  if [ "$r" = FAILED ]; then cat /tmp/fuzz-round.log; exit 1; fi
}
for t in jsonl_reader_accounts_for_every_record csv_reader_accounts_for_every_record views_map_back_inside_the_original; do
  for _ in $(seq 10); do round "$t" 1000000; done
done
minutes=${1:-30}
end=$(( $(date +%s) + minutes * 60 ))
# The rule loader runs an eighth of FUZZ_CASES: 2 000 cases a round.
while [ "$(date +%s)" -lt "$end" ]; do round rule_loader_never_panics 16000; done
