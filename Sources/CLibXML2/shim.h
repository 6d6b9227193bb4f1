// libxml2's HTML parser (Debian libxml2-dev): AntiSpam turns HTML parts into text with it.
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/parser.h>
