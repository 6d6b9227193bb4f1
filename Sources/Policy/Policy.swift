// Policy: the RuleSet language (issue 4).
