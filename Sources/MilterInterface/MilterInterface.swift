// MilterInterface: see the issue that builds it.
