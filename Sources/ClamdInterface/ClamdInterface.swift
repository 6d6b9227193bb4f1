// ClamdInterface: see the issue that builds it.
