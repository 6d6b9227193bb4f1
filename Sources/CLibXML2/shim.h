// libxml2's HTML parser (Debian libxml2-dev): AntiSpam turns HTML parts into text with it.
//
// Debian builds libxml2 with ICU, so encoding.h would include <unicode/ucnv.h> from the
// system's ICU. Foundation ships its own ICU (_FoundationICU) with a different UErrorCode,
// and a Swift file that sees both fails to build ("not present in definition of enum
// UErrorCode"), depending on module build order. Moat never touches the ICU fields (they
// sit at the end of xmlCharEncodingHandler, which only libxml2 allocates), so the ICU part
// of the header is left out.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/parser.h>
