#!/usr/bin/env bash
# Draws build/bench/scale.tsv (tests/bench/scale.sh) as a PNG: left, the
# update latency (median and p95) against n, with stock knotd's median
# measured in the same minutes; middle, the messages and bytes all replicas
# sent per update; right, the CPU time of all replicas per update, with
# stock knotd's. Needs gnuplot (Debian package gnuplot-nox).
#
#   scale-plot.sh SCALE.TSV OUT.PNG
set -euo pipefail

tsv=$1 png=$2
command -v gnuplot >/dev/null || { echo "scale-plot: no gnuplot (Debian package gnuplot-nox)" >&2; exit 1; }
proto=$(awk -F '\t' 'NR == 2 { print $3 }' "$tsv")
xr=$(awk -F '\t' 'NR > 1 { if (lo == "" || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
	END { printf "[%d:%d]", lo - 1, hi + 1 }' "$tsv")

gnuplot <<GP
set terminal pngcairo size 1500,460 font "sans,10"
set output "$png"
set datafile separator "\t"
set key autotitle columnhead
set multiplot layout 1,3 title "Scaling with n on 127.0.0.1 ($proto, all replicas on one 2-vCPU machine)"
set xlabel "n (f = floor((n-1)/3))"
set xtics 4,3
set xrange $xr
set grid
set key top left
set title "update latency, client wall time"
set ylabel "ms"
set yrange [0:*]
plot "$tsv" using 1:5 with linespoints lw 2 pt 7 title "group median", \
     "" using 1:6 with linespoints lw 2 pt 5 title "group p95", \
     "" using 1:7 with linespoints lw 1 dt 2 pt 6 title "stock knotd median"
set title "sent per update, all replicas (protocol payload)"
set ylabel "KB"
set y2label "messages"
set ytics nomirror
set y2tics
set y2range [0:*]
plot "$tsv" using 1:(\$11 / 1000) with linespoints lw 2 pt 7 title "KB", \
     "" using 1:10 axes x1y2 with linespoints lw 2 pt 5 title "messages"
set title "CPU per update, all knotd (user + system)"
set ylabel "ms"
unset y2label
unset y2tics
set ytics mirror
plot "$tsv" using 1:12 with linespoints lw 2 pt 7 title "group (all replicas)", \
     "" using 1:13 with linespoints lw 1 dt 2 pt 6 title "stock knotd"
unset multiplot
GP
echo "scale-plot: wrote $png"
