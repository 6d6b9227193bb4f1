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

# write_signatures [DIR]: Moat's two builtin test signatures (ThreatEngine/BuiltinSignatures.swift)
# in DIR (default $T/sigs), for moatd and clamd alike: the same pattern matching on both sides.
write_signatures() {
    local dir=${1:-$T/sigs}
    mkdir -p "$dir"
    echo 'aa15bcf478d165efd2065190eb473bcb:544:Clamav.Test.File-6' > "$dir/moat-builtin.hdb"
    echo 'Moat.Test.EICAR:0:*:58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a' > "$dir/moat-builtin.ndb"
    chmod -R a+rX "$dir"
}

# moat_root_section [LOGLEVEL [DIR]]: the [Root] section of a benchmark's moat.ini, moatd's
# files under DIR (default $T/moat; made here), the signatures of write_signatures.
moat_root_section() {
    local dir=${2:-$T/moat}
    mkdir -p "$dir/run" "$dir/var"
    printf '[Root]\nControlSocket = %s\nSignatureDir = %s\nVarDir = %s\nLogLevel = %s\n' \
        "$dir/run/moat-ctl.sock" "$T/sigs" "$dir/var" "${1:-Notice}"
}
