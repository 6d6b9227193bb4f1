// Gate: transparent SMTP/POP3/IMAP relays.
//
// Layout:
//   GateService.swift           the IP_TRANSPARENT listener, original destination, upstream connect
//   GateSettings.swift          [LinuxFirewall] settings the Gate reads per connection
//   BlindPorts.swift            protected ports the Gate would only relay blindly: not diverted
//   Relay/                      the one relay layer: RelayAction (the vocabulary every session
//                               speaks), RelaySession (the protocol SMTP, POP3 and IMAP conform
//                               to), RelayShell (+Check, +Send, +Flow, +TLS: both channels,
//                               spool, checks, timers, backpressure, TLS upgrades),
//                               StoredMessage, MailLineDecoder, DotStuffer, SpoolQuota
//   SMTP/                       the SMTP relay state machine, its command and DATA parsers
//   POP3/, IMAP/                the POP3 and IMAP state machines (byte-level; refusals become
//                               a delivered repack or notice, MailD's MailboxReplacement); IMAP's
//                               composed of a command tracker, mailbox view, verdict cache,
//                               private fetch and response assembler
//   Mailbox/                    what POP3 and IMAP share: MailboxConnection (phase with STARTTLS,
//                               ordered output, server EOF), MailboxRelaySession (their
//                               RelaySession conformance), held-check types, the line-length rule
//   TLS/                        interception: ClientHello, upstream verification, leaves
