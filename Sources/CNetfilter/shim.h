#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
// LinuxFirewall: nftables divert (issue 7). libnetfilter_queue is deliberately not linked:
// the static divert needs no per-connection decision in userspace (see DivertPlan.swift).

// Macros Swift cannot import.
static inline uint16_t cnetfilter_htons(uint16_t v) { return htons(v); }
static inline int cnetfilter_nlmsg_error_code(const struct nlmsghdr *nlh) {
    const struct nlmsgerr *err = (const struct nlmsgerr *)NLMSG_DATA(nlh);
    return err->error;
}
static inline size_t cnetfilter_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
