// MIME: streaming RFC 5322 / MIME parser (issue 3).
