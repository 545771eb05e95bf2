# The demo's timeline: gnuplot -e "dir='DIR'" timeline.gp reads DIR/timeline.tsv (t, canary
# weight %, then per version requests/s and 5xx ratio, then p95 ms) and DIR/markers.tsv (t,
# label) and writes DIR/timeline.svg.
set terminal svg size 960,640 dynamic font "sans,12" background rgb "white"
set output dir."/timeline.svg"
set datafile separator "\t"
set datafile missing "NaN"
stable = "#1f77b4"
canary = "#d62728"
set multiplot layout 2,1 title "xdp-canary demo: a rollout to 100 %, then a failing canary rolled back"
set grid ytics lc rgb "#dddddd"
set key outside top center horizontal
set xrange [0:*]
set lmargin 10
set rmargin 10

set ylabel "requests/s"
set y2label "canary weight %"
set yrange [0:*]
set y2range [0:105]
set y2tics 0,25,100
set ytics nomirror
set format x ""
plot dir."/timeline.tsv" using 1:3 with lines lw 2 lc rgb stable title "stable req/s", \
     "" using 1:5 with lines lw 2 lc rgb canary title "canary req/s", \
     "" using 1:2 axes x1y2 with steps lw 2 dt 2 lc rgb "#444444" title "canary weight", \
     dir."/markers.tsv" using 1:(0):(0):(100) axes x1y2 with vectors nohead dt 3 lc rgb "#888888" notitle, \
     "" using 1:(100):2 axes x1y2 with labels rotate by 90 right offset -0.6,0 font ",9" notitle

# Markers again, on a hidden second axis, so that they span the panel whatever its scale.
unset y2label
unset y2tics
set y2range [0:1]
set format x "%gs"
set xlabel "seconds since the demo began"
set ylabel "5xx ratio %"
set yrange [0:*]
plot dir."/timeline.tsv" using 1:($4*100) with lines lw 2 lc rgb stable title "stable 5xx", \
     "" using 1:($6*100) with lines lw 2 lc rgb canary title "canary 5xx", \
     dir."/markers.tsv" using 1:(0):(0):(1) axes x1y2 with vectors nohead dt 3 lc rgb "#888888" notitle
unset multiplot
