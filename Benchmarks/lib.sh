# Sourced by the benchmark scripts: the one machine-readable line each figure is also printed as,
# which Benchmarks/run-all.sh collects into its table (the prose around it is for people).
#
#   result BENCH LABEL VALUE UNIT   prints "RESULT <bench> <label> <value> <unit>"
#
# LABEL may be prose ("Postfix + Moat, unix socket"): it is turned into a slug
# (postfix-moat-unix-socket), so every field is one word.
result() {
    local slug
    slug=$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]' | sed -E 's/[^a-z0-9.]+/-/g; s/^-+//; s/-+$//')
    printf 'RESULT %s %s %s %s\n' "$1" "$slug" "$3" "$4"
}
