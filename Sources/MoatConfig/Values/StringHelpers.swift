extension StringProtocol {
    /// Trims spaces and tabs (and stray CR), the only whitespace an INI line can carry.
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let c = slice.first, c == " " || c == "\t" || c == "\r" { slice.removeFirst() }
        while let c = slice.last, c == " " || c == "\t" || c == "\r" { slice.removeLast() }
        return String(slice)
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}
