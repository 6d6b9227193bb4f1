// Gate: transparent SMTP/POP3/IMAP relays (issue 7).
