// RspamdInterface: see the issue that builds it.
