// LinuxFirewall: nftables divert (issue 7).
