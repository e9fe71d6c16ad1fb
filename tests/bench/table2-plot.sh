#!/usr/bin/env bash
# Draws build/bench/table2.tsv (tests/bench/table2.sh) as a PNG: for every
# (n, f, c) row the read (local), read (ordered), add and delete medians of
# each signing protocol, with the p95 as the top of the error bar, on a log
# scale (local reads a few ms, loopback tens, the emulated Internet hundreds). Needs gnuplot (Debian package gnuplot-nox).
#
#   table2-plot.sh TABLE2.TSV OUT.PNG
set -euo pipefail

tsv=$1 png=$2
command -v gnuplot >/dev/null || { echo "table2-plot: no gnuplot (Debian package gnuplot-nox)" >&2; exit 1; }
data=$(mktemp "${TMPDIR:-/tmp}/table2-plot.XXXXXX")
trap 'rm -f "$data"' EXIT

# One line per (row, protocol): label, then p50 and p95 of read, read (ordered),
# add, delete ("NaN" where the column failed or is missing: no bar).
awk -F '\t' 'NR > 1 {
	key = $2 "," $3 "," $4 " " ($1 == "lo" ? "lo" : "wan") " " $5
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
	p50[key, $7] = ($12 == "-" ? "NaN" : $12)
	p95[key, $7] = ($13 == "-" ? "NaN" : $13)
} END {
	for (i = 1; i <= n; i++) {
		k = order[i]
		printf "\"%s\"", k
		split("read read_ordered add delete", kinds, " ")
		for (j = 1; j <= 4; j++) {
			a = ((k, kinds[j]) in p50) ? p50[k, kinds[j]] : "NaN"
			b = ((k, kinds[j]) in p95) ? p95[k, kinds[j]] : "NaN"
			printf " %s %s", a, b
		}
		printf "\n"
	}
}' "$tsv" >"$data"

gnuplot <<GP
set terminal pngcairo size 1200,560 font "sans,10"
set output "$png"
set title "Table 2: read (local), read (ordered), add and delete, median (bar) and p95 (whisker), ms, client wall time"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.6 border -1
set logscale y
set yrange [1:*]
set ylabel "ms (log scale)"
set xtics rotate by -40 scale 0
set grid ytics
set key top left
plot "$data" using 2:2:3:xtic(1) title "read (local)", "" using 4:4:5 title "read (ordered)", \\
     "" using 6:6:7 title "add", "" using 8:8:9 title "delete"
GP
echo "table2-plot: wrote $png"
