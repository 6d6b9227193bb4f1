/// Settings an administrator's Dr.Web file may carry that have no meaning in Moat: the paths
/// and process management of Dr.Web's own components, Lua hooks, and sections of products
/// Moat does not replace. They are read past with a warning so a Dr.Web file loads as it is;
/// anything else unknown is still an error (most likely a typo).
extension Schema {
    static let drWebOnlySections: Set<String> = [
        "configd", "scanengine", "filecheck", "update", "esagent", "antispam", "lookupd", "netcheck",
        "snmpd", "cloudd", "urlcheck", "gated", "icapd", "spider", "spidergate", "linuxspider", "linuxguard",
        "mesd", "smbspider", "nss", "vxcubeagent", "statd", "firewall",
    ]

    static let drWebOnlyParameters: [String: Set<String>] = [
        "root": ["publicsocketpath", "adminsocketpath", "coreenginepath", "virusbasedir", "keypath", "cachedir",
                 "tempdir", "rundir", "varlibdir", "versiondir", "dwsfiltersdir", "dwsdir", "adminsgroup",
                 "trustedgroup", "drwebsmsgroup", "useproxy", "proxy", "usemessengersforbacklink"],
        "maild": ["exepath", "runasuser", "fixedsocketpath", "idletimelimit", "dnsresolverconfpath",
                  "milterhook", "spamdhook", "rspamdhook", "smtphook", "bcchook", "rspamdhttpsocket",
                  "smtpsocket", "bccsocket", "maxscanstring", "maxheaderlength", "scanbodyurl", "usevxcube",
                  "vxcubeprojects", "vxcubeinterval", "vxcubemaxsize"],
        "linuxfirewall": ["exepath", "xtableslockpath", "inspectftp", "inspecthttp", "outputdivert",
                          "outputdivertconnecttransparently", "inputdivertconnecttransparently", "excludedproc",
                          "autoconfigureiptables", "autoconfigurerouting", "interceptHook".lowercased(),
                          "fwmark", "nfqueue", "tcpsyncookies", "blockinfectionsource", "blocknotrecommended",
                          "blockownersnotice", "blockadultcontent", "blockviolence", "blockweapons",
                          "blockgambling", "blockdrugs", "blockobscenelanguage", "blockchats",
                          "blockterrorism", "blockfreeemail", "blocksocialnetworks", "blockduetocopyrightnotice",
                          "blockanonymizers", "blockcryptocurrencyminingpools", "blockjobs",
                          "whitelist", "blacklist", "scanningurlcategory"],
        "clamd": ["exepath", "start"],
        "httpd": ["exepath", "publiclisten", "webconsole", "adminsslca", "webhooks", "rsaprivatekey"],
    ]

    static func isDrWebOnly(_ name: String, in section: String) -> Bool {
        drWebOnlyParameters[section.lowercased()]?.contains(name.lowercased()) == true
    }
}
