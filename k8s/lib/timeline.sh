# shellcheck shell=sh
# The restart timeline of one container as a small text chart: the measured gap before each
# restart (from the container's exit to its next start) beside the documented back-off delay.
# One implementation for both places that show it: `make docker-demo` (images/docker-demo, Docker's
# --restart=always) and lesson 1 (its lesson.sh, the kubelet). Sourced (k8s/lib/flow.sh sources it).
#
#   restart_timeline docker  < EVENTS         EVENTS: `docker events --format '{{.Action}} {{.TimeNano}}'`
#                                             for one container: lines "start NANOS" / "die NANOS"
#   restart_timeline kubelet < OBSERVATIONS   one line per look at the Pod API (lesson 1's jsonpath):
#     NAME|restartCount|state.waiting.reason|lastState exitCode|lastState reason|
#     state.running.startedAt|state.terminated.startedAt|state.terminated.finishedAt|
#     lastState.terminated.startedAt|lastState.terminated.finishedAt          (RFC 3339 times)
#
# The Pod API keeps only the current and the previous run of a container, so lesson 1 looks every
# few seconds and this puts the runs together: while the container waits (CrashLoopBackOff)
# lastState is run number restartCount; while it runs or has just ended, the current run is number
# restartCount and lastState the one before. A run never seen is reported as not observed, and a
# malformed or out-of-order timestamp as such: neither is ever drawn as a zero gap.
#
# Documented delays (checked against k8s/checks/facts.md by the README facts test):
DOCKER_INITIAL_MS=100    # Docker: 100 ms before the first restart, doubling ...
DOCKER_MAX_MS=60000      # ... capped at 1 minute
KUBELET_INITIAL_MS=10000 # kubelet: the first restart at once, then 10 s, doubling ...
KUBELET_MAX_MS=300000    # ... capped at 300 s
#
# Status: 0 when at least one gap was measured and every measured gap is at least its documented
# delay (less the timestamps' precision); 1 when a timestamp is malformed, nothing could be
# measured, or a restart came sooner than documented; 2 for a wrong argument.
# POSIX sh and awk only (macOS awk included).
# RFC3339_AWK: awk functions the timeline and the graders (k8s/lib/flow.sh) share. rfc3339(TEXT)
# reads an RFC 3339 time as the API writes it (2026-01-01T12:00:30Z, a fraction and an offset
# allowed): 1 and RFC_WHOLE (whole seconds since 1970) and RFC_FRAC, or 0 and RFC_ERROR saying why.
# days() is H. Hinnant's "days_from_civil" (days since 1970-01-01 of a proleptic Gregorian date).
RFC3339_AWK='
function days(y, m, d,   era, yoe, doy) {
  y -= (m <= 2)
  era = int((y >= 0 ? y : y - 399) / 400)
  yoe = y - era * 400
  doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
}
function rfc3339(text,   s, y, mo, d, h, mi, sec, off, sign) {
  s = text
  if (s !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]+)?(Z|[+-][0-9][0-9]:[0-9][0-9])$/) {
    RFC_ERROR = "is not an RFC 3339 time"; return 0
  }
  y = substr(s, 1, 4) + 0; mo = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
  h = substr(s, 12, 2) + 0; mi = substr(s, 15, 2) + 0; sec = substr(s, 18, 2) + 0
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    RFC_ERROR = "is not a valid date and time"; return 0
  }
  s = substr(s, 20); RFC_FRAC = 0; off = 0
  if (s ~ /^\./) { match(s, /^\.[0-9]+/); RFC_FRAC = ("0" substr(s, 1, RLENGTH)) + 0; s = substr(s, RLENGTH + 1) }
  if (s != "Z") { sign = (substr(s, 1, 1) == "-") ? -1 : 1; off = sign * (substr(s, 2, 2) * 3600 + substr(s, 5, 2) * 60) }
  RFC_WHOLE = days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off
  return 1
}
'

restart_timeline() {
  case ${1:-} in
    docker) set -- docker "$DOCKER_INITIAL_MS" "$DOCKER_MAX_MS" 0 10 ;;
    kubelet) set -- kubelet "$KUBELET_INITIAL_MS" "$KUBELET_MAX_MS" 1 1000 ;;
    *) echo "restart_timeline: docker or kubelet (got '${1:-}')" >&2 && return 2 ;;
  esac
  awk -v mode="$1" -v initial="$2" -v max="$3" -v first_at_once="$4" -v precision="$5" "$RFC3339_AWK"'
function problem(msg) { problems[++nproblems] = msg }

# Seconds since the first timestamp seen (kept small, so fractions stay exact), or "" when the
# text is not a time of the expected form; the reason goes to problems[].
function seconds(text, what,   whole, frac) {
  if (mode == "docker") {
    if (text !~ /^[0-9]+$/ || length(text) < 10) { problem(what " \"" text "\" is not a TimeNano (nanoseconds since 1970)"); return "" }
    whole = substr(text, 1, length(text) - 9) + 0
    frac = ("0." substr(text, length(text) - 8)) + 0
  } else {
    if (!rfc3339(text)) { problem(what " \"" text "\" " RFC_ERROR); return "" }
    whole = RFC_WHOLE; frac = RFC_FRAC
  }
  if (!have_base) { base = whole; have_base = 1 }
  return (whole - base) + frac
}

# Record run N (0 = the first run): its start and end; a second sighting must agree.
function record(n, start, finish, where,   t) {
  if (n == "" || n < 0) return
  if (start != "") { t = seconds(start, where " startedAt"); if (t != "") { if ((n in st) && st[n] != t) problem("run " n + 1 " seen with two start times"); st[n] = t } else bad[n] = 1 }
  if (finish != "") { t = seconds(finish, where " finishedAt"); if (t != "") { if ((n in fin) && fin[n] != t) problem("run " n + 1 " seen with two end times"); fin[n] = t } else bad[n] = 1 }
  if (n > last) last = n
}

function documented(k,   ms, i) { # delay before restart k (k = 1 is the first restart), in ms
  if (first_at_once && k == 1) return 0
  ms = initial
  for (i = first_at_once ? 2 : 1; i < k && ms < max; i++) ms *= 2
  return ms > max ? max : ms
}

function human(ms) { # a documented delay: 100 ms, 1.6 s, 10 s
  if (ms < 1000) return sprintf("%d ms", ms)
  if (ms % 1000 == 0) return sprintf("%d s", ms / 1000)
  return sprintf("%.1f s", ms / 1000)
}

function doc_text(k) { return (first_at_once && k == 1) ? "at once" : human(documented(k)) }

function show(sec) { # a measured gap, to the precision of its timestamps
  if (sec < 1) return sprintf("%d ms", int(sec * 1000 + 0.5))
  if (mode == "kubelet") return sprintf("%d s", int(sec + 0.5))
  return sprintf("%.2f s", sec)
}

BEGIN { last = -1; runs = -1 }
mode == "docker" && NF {
  if ($1 == "start") { runs++; if (NF < 2 || $2 == "") { problem("start event " NR " has no time"); bad[runs] = 1 } else record(runs, $2, "", "start event " NR) }
  else if ($1 == "die") {
    if (runs < 0) next # the end of a run that began before the events were read
    if (NF < 2 || $2 == "") { problem("die event " NR " has no time"); bad[runs] = 1 } else record(runs, "", $2, "die event " NR)
  } else problem("line " NR ": expected \"start NANOS\" or \"die NANOS\", got \"" $0 "\"")
}
mode == "kubelet" && NF {
  n = split($0, f, "|")
  if (n != 10) { problem("line " NR ": expected 10 fields separated by |, got " n); next }
  if (f[2] == "") next # no container status yet (the pod is still being scheduled or created)
  if (f[2] !~ /^[0-9]+$/) { problem("line " NR ": restartCount \"" f[2] "\" is not a number"); next }
  if (pod == "") pod = f[1]
  if (f[1] != pod) { others++; next }
  r = f[2] + 0; where = "line " NR
  if (f[6] != "" || f[7] != "") {
    record(r, f[6] != "" ? f[6] : f[7], f[8], where " run " r + 1)
    record(r - 1, f[9], f[10], where " run " r)
  } else if (f[9] != "") {
    record(r, f[9], f[10], where " run " r + 1)
  }
  if (r > last) last = r
}
END {
  title = mode == "docker" ? "Docker --restart=always (from docker events)" : "the kubelet, pod " pod " (from the Pod API)"
  printf "Restart timeline of %s\n", title
  printf "  documented: %s%s, doubling up to %s\n", first_at_once ? "the first restart at once, then " : "", human(initial), human(max)
  if (others) printf "  (%d observations of other pods left out)\n", others
  # scale: a "nice" number of seconds per column, so the longest row fits in 40 columns
  longest = 0
  for (k = 1; k <= last; k++) {
    if ((k in st) && ((k - 1) in fin) && !bad[k] && !bad[k - 1]) { gap[k] = st[k] - fin[k - 1]; if (gap[k] > longest) longest = gap[k] }
    if (documented(k) / 1000 > longest) longest = documented(k) / 1000
  }
  split("0.01 0.02 0.05 0.1 0.2 0.5 1 2 5 10 20 30 60", steps, " ")
  for (i = 1; i <= 13; i++) { unit = steps[i] + 0; if (longest / unit <= 40) break }
  printf "  restart  measured gap  documented  (# measured, | documented; one column = %s)\n", show(unit)
  measured = 0; early = 0
  for (k = 1; k <= last; k++) {
    doc = documented(k) / 1000
    if (bad[k] || bad[k - 1]) { printf "  %7d  %-12s  %10s  not measured: a timestamp of run %d or %d is malformed (below)\n", k, "?", doc_text(k), k, k + 1; continue }
    if (!(k in gap)) {
      why = !((k - 1) in fin) ? "run " k " was over before a look saw it" : "the start of run " k + 1 " was not seen"
      printf "  %7d  %-12s  %10s  not measured: %s\n", k, "?", doc_text(k), why; continue
    }
    if (gap[k] < 0) { problem("run " k + 1 " starts before run " k " ends: timestamps out of order"); printf "  %7d  %-12s  %10s  not measured: timestamps out of order\n", k, "?", doc_text(k); continue }
    measured++
    if (gap[k] * 1000 < documented(k) - precision) { early++; problem("restart " k " came after " show(gap[k]) ", sooner than the documented " doc_text(k)) }
    b = int(gap[k] / unit + 0.5); p = int(doc / unit + 0.5); bar = ""
    if (b > 40) b = 40 # longer than any scale step allows (hours): cut, and marked with ">"
    for (i = 1; i <= (b > p ? b : p); i++) bar = bar (i == p ? "|" : (i <= b ? "#" : " "))
    if (gap[k] / unit > 40.5) bar = bar ">"
    printf "  %7d  %12s  %10s  %s\n", k, show(gap[k]), doc_text(k), bar
  }
  if (last < 1) problem("no restart in the input: nothing to measure")
  else if (!measured) problem("no gap could be measured")
  for (i = 1; i <= nproblems; i++) printf "  problem: %s\n", problems[i]
  exit (nproblems ? 1 : 0)
}'
}
