// glibc's memmem (a GNU extension): Swift's Glibc module is built without _GNU_SOURCE, so it
// does not declare it. This declaration is the one <string.h> gives under _GNU_SOURCE.
#include <stddef.h>

void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
