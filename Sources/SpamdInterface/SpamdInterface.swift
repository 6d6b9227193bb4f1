// SpamdInterface: see the issue that builds it.
