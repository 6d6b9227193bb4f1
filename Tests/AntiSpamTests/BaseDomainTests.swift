@testable import AntiSpam
import Testing

/// The base domain of a link's host, read on its bytes when it is plain ASCII, must be what
/// the general path (labels split and joined) gives for every host.
struct BaseDomainTests {
    /// The definition: the last two labels, three when the second-level one is short and the
    /// top-level one has two characters; empty labels do not count.
    private func byLabels(_ host: String) -> String {
        let labels = host.split(separator: ".")
        guard labels.count > 2 else { return host }
        let keep = labels[labels.count - 2].count <= 3 && labels.last!.count == 2 ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }

    @Test func knownHosts() {
        #expect(baseDomain("example.com") == "example.com")
        #expect(baseDomain("www.example.com") == "example.com")
        #expect(baseDomain("a.b.example.co.uk") == "example.co.uk")
        #expect(baseDomain("x.y.z.com.au") == "z.com.au")
        #expect(baseDomain("mail.example.de") == "example.de")
        #expect(baseDomain("a.bc.de") == "a.bc.de")
        #expect(baseDomain("localhost") == "localhost")
        #expect(baseDomain("") == "")
        #expect(baseDomain("bücher.shop.example.co.uk") == "example.co.uk", "non-ASCII elsewhere in the host")
        #expect(baseDomain("www.bücher.de") == "bücher.de")
        #expect(baseDomain("a..b.c") == "b.c", "empty labels are not labels")
        #expect(baseDomain(".x.example.com.") == "example.com")
    }

    @Test func agreesWithTheLabelsForEveryShape() {
        // Every host up to six characters over an alphabet that has the cases (dots anywhere,
        // doubled, leading, trailing; a non-ASCII letter; a space), and up to nine over a
        // smaller one, long enough for a short second-level label under a two-letter one
        // beneath further labels ("a.bc.de.fg" needs ten; "a.b.cd.ef" is nine).
        var checked = 0
        for (alphabet, longest) in [(["a", "b", ".", "é", " "], 6), (["a", ".", "é"], 9)] {
            var hosts = [""]
            for _ in 1...longest {
                hosts = hosts.flatMap { host in alphabet.map { host + $0 } }
                for host in hosts {
                    #expect(baseDomain(host) == byLabels(host), "\(host)")
                    checked += 1
                }
            }
        }
        #expect(checked > 45_000)
    }
}
