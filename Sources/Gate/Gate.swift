// Gate: transparent SMTP/POP3/IMAP relays (issue 7).
//
// Layout:
//   GateService.swift           the IP_TRANSPARENT listener, original destination, upstream connect
//   GateSettings.swift          [LinuxFirewall] settings the Gate reads per connection
//   Relay/                      what every protocol shares: MailLineDecoder, RelayProtocolSession,
//                               RelayConnection (two channels glued, line-based: SMTP),
//                               ByteRelayConnection (the same for the byte-level POP3/IMAP
//                               sessions; refusals become a delivered repack or notice),
//                               RelayEndpoint/RelaySideHandler, MessageSink, DotStuffer
//   SMTP/SMTPRelaySession.swift the SMTP relay state machine
//   POP3/, IMAP/                the POP3 and IMAP state machines (byte-level, ByteRelaySession)
