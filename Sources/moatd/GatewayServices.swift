/// The transparent gateway: the firewall's divert rules and the Gate's relays, each in its
/// own file (`Gateway+Firewall.swift`, `Gateway+Gate.swift`); nil while InputDivert is Off.
enum GatewayServices {}
