import Foundation

/// Robinson's per-feature probabilities combined with Fisher's chi-square method, as
/// SpamBayes and SpamAssassin's Bayes do.
///
/// Each known feature gets f(w) = (s·x + n·p(w)) / (s + n), where p(w) is the share of spam
/// among the messages that held it (normalised by the class sizes), n how many held it, x the
/// prior 0.5 and s its strength. The `maxInteresting` features farthest from 0.5 are
/// combined: S and H are chi-square probabilities of the spam and ham hypotheses, and the
/// result (1 + S - H) / 2 is near 1 for spam, near 0 for ham and 0.5 when unsure.
struct BayesClassifier: Sendable {
    var strength = 1.0
    var prior = 0.5
    var minDeviation = 0.1
    var maxInteresting = 150

    struct Result: Sendable {
        var probability: Double
        var featuresUsed: Int
    }

    func classify(_ features: Set<UInt64>, counts: (UInt64) -> FeatureCounts?, spamMessages: Int, hamMessages: Int) -> Result {
        let nSpam = Double(max(spamMessages, 1)), nHam = Double(max(hamMessages, 1))
        var probabilities: [Double] = []
        probabilities.reserveCapacity(features.count)
        for feature in features {
            guard let c = counts(feature) else { continue }
            let spamRatio = min(1, Double(c.spam) / nSpam)
            let hamRatio = min(1, Double(c.ham) / nHam)
            guard spamRatio + hamRatio > 0 else { continue }
            let p = spamRatio / (spamRatio + hamRatio)
            let n = Double(c.spam) + Double(c.ham)
            let f = (strength * prior + n * p) / (strength + n)
            if abs(f - 0.5) >= minDeviation { probabilities.append(f) }
        }
        guard !probabilities.isEmpty else { return Result(probability: 0.5, featuresUsed: 0) }
        if probabilities.count > maxInteresting {
            probabilities.sort { abs($0 - 0.5) > abs($1 - 0.5) }
            probabilities.removeSubrange(maxInteresting...)
        }
        var lnSpam = 0.0, lnHam = 0.0
        for f in probabilities {
            // Clamped so that one feature seen in a single class cannot decide alone.
            let g = min(max(f, 0.001), 0.999)
            lnHam += log(g)
            lnSpam += log(1 - g)
        }
        let v = 2 * probabilities.count
        let s = 1 - Self.chi2Q(-2 * lnSpam, v)
        let h = 1 - Self.chi2Q(-2 * lnHam, v)
        return Result(probability: (1 + s - h) / 2, featuresUsed: probabilities.count)
    }

    /// P(chi² ≥ x²) for an even number of degrees of freedom.
    static func chi2Q(_ x2: Double, _ v: Int) -> Double {
        let m = x2 / 2
        var term = exp(-m)
        var sum = term
        var i = 1
        while i < v / 2 {
            term *= m / Double(i)
            sum += term
            i += 1
        }
        return min(sum, 1)
    }
}
