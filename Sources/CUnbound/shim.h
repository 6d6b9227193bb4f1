// libunbound (Debian libunbound-dev): the validating, caching resolver behind DNSResolver.
// No pkg-config: libunbound.pc names libevent and nettle as private requirements, which
// only a static link needs.
#include <unbound.h>
// The resolver thread's wake-up descriptor (Swift's Glibc module does not export it).
#include <sys/eventfd.h>
