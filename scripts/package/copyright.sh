#!/usr/bin/env bash
# Prints debian/copyright (DEP-5) for the package: Moat's own stanza, the Swift runtime, and
# one stanza per Swift package in CHECKOUTS (the build's .build*/checkouts), its licence read
# from its LICENSE file.
set -euo pipefail
checkouts=$1
here=$(dirname "$0")
cat "$here/copyright.head"
expat=""
for dir in "$checkouts"/*/; do
    name=$(basename "$dir")
    file=$(find "$dir" -maxdepth 1 -iname 'LICENSE*' -o -maxdepth 1 -iname 'COPYING*' | head -1)
    [ -n "$file" ] || continue
    if grep -q "Apache License" "$file" && grep -q "Version 2.0" "$file"; then
        license=Apache-2.0
    elif grep -q "Permission is hereby granted, free of charge" "$file"; then
        license=Expat
        expat=$file
    else
        license="other (see the package's $(basename "$file"))"
    fi
    holder=$(grep -m1 -i "^ *Copyright (c)\|^ *Copyright ([Cc])\|^ *Copyright [0-9]" "$file" "$dir/NOTICE.txt" 2>/dev/null \
        | head -1 | sed 's/^[^:]*://; s/^ *Copyright *//' || true)
    printf '\nFiles: swift-packages/%s/*\nCopyright: %s\nLicense: %s\n' "$name" "${holder:-the $name authors}" "$license"
    if [ -f "$dir/NOTICE.txt" ] && grep -qi boringssl "$dir/NOTICE.txt"; then
        printf 'Comment: Includes BoringSSL (ISC and OpenSSL licences, see the package'"'"'s NOTICE.txt).\n'
    fi
done
cat <<'LICENSES'

License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.

License: Apache-2.0 with Runtime Library Exception
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
 .
 Runtime Library Exception to the Apache 2.0 License:
 .
 As an exception, if you use this Software to compile your source code and
 portions of this Software are embedded into the binary product as a result,
 you may redistribute such product without providing attribution as would
 otherwise be required by Sections 4(a), 4(b) and 4(d) of the License.

License: Moat
 The Moat repository does not state its licence yet.
LICENSES
if [ -n "$expat" ]; then
    printf '\nLicense: Expat\n'
    # The text of the first Expat package's licence, its copyright line left out.
    grep -v -i "^ *copyright" "$expat" | sed -e 's/^[[:space:]]*$/./' -e 's/^/ /' | sed -e '1{/^ \.$/d}'
fi
