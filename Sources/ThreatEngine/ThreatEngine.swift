import CClamAV
// ThreatEngine: libclamav (issue 3).
