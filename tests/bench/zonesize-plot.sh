#!/usr/bin/env bash
# Draws build/bench/zonesize.tsv (tests/bench/zonesize.sh) as a PNG against
# the zone's records (log scale): the initial signing rate of the group and
# of stock knotd (RRSIGs per second of wall time, and the group's threshold
# signing alone where logged), the resident memory of a replica's knotd and
# of stock knotd, and the update latency median of both. Needs gnuplot
# (Debian package gnuplot-nox).
#
#   zonesize-plot.sh ZONESIZE.TSV OUT.PNG
set -euo pipefail

tsv=$1 png=$2
command -v gnuplot >/dev/null || { echo "zonesize-plot: no gnuplot (Debian package gnuplot-nox)" >&2; exit 1; }

# The x range: half the smallest size to twice the largest.
xr=$(awk -F '\t' 'NR > 1 { if (lo == "" || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
	END { printf "[%g:%g]", lo / 2, hi * 2 }' "$tsv")

gnuplot <<GP
set terminal pngcairo size 1500,460 font "sans,10"
set output "$png"
set datafile separator "\t"
set datafile missing "-"
set multiplot layout 1,3 title "Zone size: a group of 4 (optte) against stock knotd signing itself, 127.0.0.1, RSA-1024"
set logscale x
set xrange $xr
set xlabel "records in the zone"
set format x "%.0s%c"
set grid
set key top left
set title "initial signing of the whole zone"
set ylabel "RRSIGs per second"
set logscale y
plot "$tsv" using 1:4 with linespoints lw 2 pt 7 title "group, knotd start to signed", \
     "" using 1:5 with linespoints lw 2 pt 9 title "group, threshold signing alone", \
     "" using 1:7 with linespoints lw 2 pt 5 title "stock knotd, start to signed"
unset logscale y
set title "resident memory after the updates"
set ylabel "MB (log scale)"
set logscale y
set key top left
plot "$tsv" using 1:9 with linespoints lw 2 pt 7 title "replica VmRSS (mean)", \
     "" using 1:10 with linespoints lw 1 dt 2 pt 6 title "replica VmHWM", \
     "" using 1:11 with linespoints lw 2 pt 5 title "stock VmRSS", \
     "" using 1:12 with linespoints lw 1 dt 2 pt 4 title "stock VmHWM"
unset logscale y
set title "update latency, median"
set yrange [0:*]
set ylabel "ms"
plot "$tsv" using 1:15 with linespoints lw 2 pt 7 title "group", \
     "" using 1:17 with linespoints lw 2 pt 5 title "stock knotd"
unset multiplot
GP
echo "zonesize-plot: wrote $png"
