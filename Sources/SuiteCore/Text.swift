import Foundation

/// `text` without leading and trailing white space — the result of Foundation's
/// `trimmingCharacters(in: .whitespacesAndNewlines)`, or of `.whitespaces` when `newlines` is
/// false — answered without Foundation when both ends are ASCII other than white space, which is
/// nearly always: trimming only ever looks at the ends. (Foundation's trimming cost about 10 µs a
/// call on Linux, measured, on every provision and transfer.)
public func trimmingWhitespace(_ text: String, newlines: Bool = true) -> String {
    if let first = text.utf8.first, let last = text.utf8.last, keepsEnd(first), keepsEnd(last) { return text }
    return text.trimmingCharacters(in: newlines ? .whitespacesAndNewlines : .whitespaces)
}

/// Whether an end byte is certainly not trimmed: ASCII, and not a space, tab or line break.
/// (Non-ASCII ends, which may be Unicode white space, are left to Foundation.)
private func keepsEnd(_ byte: UInt8) -> Bool {
    byte < 0x80 && byte != 0x20 && !(0x09...0x0D).contains(byte)
}

/// Whether `text` holds a control character (C0, DEL or C1), checked byte by byte when the text
/// is ASCII and scalar by scalar otherwise.
public func containsControlCharacters(_ text: String) -> Bool {
    var ascii = true
    for byte in text.utf8 {
        if byte < 0x20 || byte == 0x7F { return true }
        if byte >= 0x80 { ascii = false }
    }
    if ascii { return false }
    return text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
}

/// Whether `text` has at most `maximum` characters, without counting them when its UTF-8 length
/// already says so (a character is at least one byte).
public func hasAtMostCharacters(_ text: String, _ maximum: Int) -> Bool {
    text.utf8.count <= maximum || text.count <= maximum
}
