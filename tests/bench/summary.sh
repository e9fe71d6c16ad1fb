# build/bench/summary.tsv: one "metric<TAB>value" line per figure, shared by
# every benchmark arm. An arm merges its own lines: a metric it measured
# again replaces the old line, other arms' lines stay.
#
#   summary_merge NEW.tsv    merge NEW.tsv's lines into the summary

SUMMARY_TSV=${SUMMARY_TSV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bench/summary.tsv}

summary_merge() {
	local new=$1
	mkdir -p "$(dirname "$SUMMARY_TSV")"
	touch "$SUMMARY_TSV"
	# Arms may run at once: the lock keeps one merge from losing another's lines.
	(
		flock -w 30 9 || { echo "summary: $SUMMARY_TSV is locked" >&2; exit 1; }
		awk -F '\t' 'NR == FNR { if (NF >= 2) { val[$1] = $0; order[++n] = $1 } next }
		             NF >= 2 && !($1 in val) { print }
		             END { for (i = 1; i <= n; i++) if (!seen[order[i]]++) print val[order[i]] }' \
			"$new" "$SUMMARY_TSV" >"$SUMMARY_TSV.tmp.$$"
		mv "$SUMMARY_TSV.tmp.$$" "$SUMMARY_TSV"
	) 9>"$SUMMARY_TSV.lock"
}
